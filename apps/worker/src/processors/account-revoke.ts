import { type AccountsDeps, createAccountRevokeProcessor, type RevokeOutcome } from '@ttc/accounts';
import type { Job } from 'bullmq';

/**
 * `account.revoke`: revokes a disconnected account's access token at TikTok. Transient TikTok errors are thrown for
 * the queue's retries (about 30, over days); a permanent refusal ends the job with an event.
 */
export function accountRevokeProcessor(deps: AccountsDeps): (job: Job) => Promise<RevokeOutcome> {
  return createAccountRevokeProcessor(deps);
}
