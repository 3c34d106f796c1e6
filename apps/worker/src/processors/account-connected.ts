import { type Accounts, type ConnectOutcome, isAccountError } from '@ttc/accounts';
import { type Job, UnrecoverableError } from 'bullmq';

/**
 * `account.connected`: stores the connection the gateway enqueued, and records its outcome in the user's connect
 * session, where the connect page (woken by this job's `completed` event) reads it.
 *
 * The account service validates the payload: a malformed one fails at once with `UnrecoverableError` (no retry can
 * fix it). Database or Redis errors are thrown as they are, for BullMQ's retries with backoff, which is safe because
 * storing a connection is idempotent per `connectionId`.
 */
export function accountConnectedProcessor(accounts: Accounts): (job: Job) => Promise<ConnectOutcome> {
  return async (job) => {
    try {
      return await accounts.applyConnection(job.data);
    } catch (error) {
      if (isAccountError(error, 'ACCOUNT_INVALID_PAYLOAD')) throw new UnrecoverableError(error.message);
      throw error;
    }
  };
}
