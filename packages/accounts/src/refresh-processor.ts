import { tokenRefreshPayload } from '@ttc/queue';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { describePayloadIssues } from './connect.js';
import { type AccountsDeps, resolveLifecycleSettings } from './deps.js';
import { type RefreshOutcome, refreshAccount } from './refresh.js';
import { computeNextRefreshAt } from './schedule.js';
import { isUuid } from './uuid.js';

/** What a refresh job did, for logs and metrics; a job that moved itself ends with {@link DelayedError}. */
export interface TokenRefreshJobResult {
  outcome: RefreshOutcome;
  /** When the job runs next, or null when it ended (account gone, inactive or needing re-authorization). */
  nextRunAt: Date | null;
}

/**
 * BullMQ processor for `token.refresh`. Each account has ONE job for its whole life (`refresh-<accountId>`): after
 * each run the processor moves its own job back to delayed at the row's `nextRefreshAt` (`job.moveToDelayed` +
 * `DelayedError`), so there is never a moment without a job and never a second one. The job ends (completes, and is
 * removed) only when the account is gone, disconnected or needs re-authorization.
 *
 * Retries of failed refreshes are the same move, at the backoff `refreshAccount` recorded in `nextRefreshAt`. They do
 * not use BullMQ's `attempts`: those count over the job's whole life and would eventually give up on an account whose
 * refresh token TikTok still honours. BullMQ's attempts stay as the net for unexpected errors (database down), and
 * the reconciler replaces a job that exhausted them.
 *
 * `reason: 'manual'`, or a job with a delay of 0 (promoted by hand: BullMQ's `promote` zeroes it, and the scheduler
 * never writes 0), forces a refresh; otherwise the refresh happens only when the row says it is due, so a duplicate
 * trigger costs one row read.
 */
export function createTokenRefreshProcessor(
  deps: AccountsDeps,
): (job: Job, token?: string) => Promise<TokenRefreshJobResult> {
  return async (job: Job, token?: string) => {
    const parsed = tokenRefreshPayload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(describePayloadIssues(parsed.error.issues, 'token.refresh'));
    const { accountId, reason } = parsed.data;
    if (!isUuid(accountId)) throw new UnrecoverableError('token.refresh payload is invalid: accountId (not a UUID)');

    const promoted = job.delay === 0;
    const result = await refreshAccount(deps, accountId, {
      reason: promoted ? 'manual' : reason,
      force: reason === 'manual' || promoted,
      schedule: false,
    });

    let next: Date | null = null;
    const row = result.account;
    if (row && row.status === 'ACTIVE') {
      if (result.retryAt) next = result.retryAt;
      else if (row.nextRefreshAt) next = row.nextRefreshAt;
      else if (row.accessTokenExpiresAt) {
        next = computeNextRefreshAt(
          { obtainedAt: row.tokensObtainedAt, accessTokenExpiresAt: row.accessTokenExpiresAt },
          resolveLifecycleSettings(deps),
        );
      }
    }
    if (!next || !token) return { outcome: result.outcome, nextRunAt: null };

    // Back to the small scheduled payload (a manual job would otherwise force every later run too).
    if (Object.keys(job.data as object).length !== 1) await job.updateData({ accountId });
    // A little ahead: a delay of 0 would read as "promoted by hand" next time.
    await job.moveToDelayed(Math.max(next.getTime(), Date.now() + 50), token);
    throw new RefreshRescheduled(result.outcome, next);
  };
}

/** The {@link DelayedError} a refresh job ends with when it moved itself to its next run; carries what it did. */
export class RefreshRescheduled extends DelayedError {
  readonly outcome: RefreshOutcome;
  readonly nextRunAt: Date;
  constructor(outcome: RefreshOutcome, nextRunAt: Date) {
    super();
    // BullMQ also recognises delays by name; keep the one it knows.
    this.name = 'DelayedError';
    this.outcome = outcome;
    this.nextRunAt = nextRunAt;
  }
}
