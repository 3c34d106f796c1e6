import type { Accounts, RevokeOutcome } from '@ttc/accounts';
import { accountRevokePayload, describePayloadIssues } from '@ttc/queue';
import { type Job, UnrecoverableError } from 'bullmq';

/**
 * `account.revoke`: revokes a disconnected account's access token at TikTok, unless the account was connected again
 * or another active connection holds the same TikTok account (then skipped, with an event saying why).
 *
 * A malformed payload, or a permanent refusal by TikTok (recorded as an event by the service), ends the job with
 * `UnrecoverableError`, so it stays visible among the failed jobs; transient TikTok errors are thrown for the queue's
 * retries (about 30, over days).
 */
export function accountRevokeProcessor(
  accounts: Accounts,
): (job: Job, token?: string, signal?: AbortSignal) => Promise<RevokeOutcome> {
  return async (job, _token, signal) => {
    const parsed = accountRevokePayload.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(describePayloadIssues('account.revoke', parsed.error.issues));
    }
    const outcome = await accounts.revoke(parsed.data, signal ? { signal } : {});
    if (outcome === 'refused') throw new UnrecoverableError('TikTok refused the revoke');
    return outcome;
  };
}
