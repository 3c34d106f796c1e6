import { accountConnectedPayload, type ConnectOutcome } from '@ttc/queue';
import { type Job, UnrecoverableError } from 'bullmq';
import { applyConnection, describePayloadIssues } from './connect.js';
import type { AccountsDeps } from './deps.js';

/**
 * BullMQ processor for `account.connected`: parses `job.data` with the shared schema and stores the connection.
 * A malformed payload fails at once with `UnrecoverableError` (no retry can fix it); database or Redis errors are
 * thrown as they are so that BullMQ retries them with backoff, which is safe because `applyConnection` is idempotent.
 */
export function createAccountConnectedProcessor(deps: AccountsDeps): (job: Job) => Promise<ConnectOutcome> {
  return async (job: Job) => {
    const parsed = accountConnectedPayload.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(describePayloadIssues(parsed.error.issues));
    }
    return applyConnection(deps, parsed.data);
  };
}
