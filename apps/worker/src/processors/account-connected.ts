import { type Accounts, type ConnectOutcome, isAccountError } from '@ttc/accounts';
import { type Job, UnrecoverableError } from 'bullmq';

/**
 * `account.connected`: stores the connection the gateway enqueued, and records its outcome in the user's connect
 * session, where the connect page (woken by this job's `completed` event) reads it.
 *
 * The account service validates the payload: a malformed one fails at once with `UnrecoverableError` (no retry can
 * fix it). Database or Redis errors are thrown as they are, for BullMQ's retries with backoff, which is safe because
 * storing a connection is idempotent per `connectionId`. When the last try fails, the connect page is told.
 */
export function accountConnectedProcessor(accounts: Accounts): (job: Job) => Promise<ConnectOutcome> {
  return async (job) => {
    try {
      return await accounts.applyConnection(job.data);
    } catch (error) {
      const invalid = isAccountError(error, 'ACCOUNT_INVALID_PAYLOAD');
      if (invalid || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        // The last try: the user's page would otherwise say "Adding…" for as long as the session lives.
        await accounts.recordConnectionFailed(job.data).catch(() => undefined);
      }
      throw invalid ? new UnrecoverableError(error.message) : error;
    }
  };
}
