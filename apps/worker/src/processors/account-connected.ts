import { type AccountsDeps, createAccountConnectedProcessor } from '@ttc/accounts';
import type { ConnectOutcome } from '@ttc/queue';
import type { Job } from 'bullmq';

/**
 * `account.connected`: stores the connection the gateway enqueued. Thin on purpose: the shared schema parses the
 * payload (malformed → `UnrecoverableError`, never retried) and `@ttc/accounts` does the idempotent upsert, so any
 * other error is transient and left to BullMQ's retries.
 */
export function accountConnectedProcessor(deps: AccountsDeps): (job: Job) => Promise<ConnectOutcome> {
  return createAccountConnectedProcessor(deps);
}
