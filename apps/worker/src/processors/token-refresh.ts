import { type Accounts, isUuid, type RefreshOutcome } from '@ttc/accounts';
import { accountIdOfRefreshJob, describePayloadIssues, tokenRefreshPayload } from '@ttc/queue';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { WorkerMetrics } from '../metrics.js';

/** What a refresh job did, for logs and metrics; a job that moved itself ends with {@link RefreshRescheduled}. */
export interface TokenRefreshJobResult {
  outcome: RefreshOutcome;
  /** Null: the job ended (account gone, inactive or needing re-authorization). */
  nextRunAt: null;
}

/**
 * `token.refresh`: each account has ONE job for its whole life (`jobIds.tokenRefresh(accountId)`; the id says which
 * account, the data is empty unless a manual refresh was asked for). The job refreshes when the
 * row says it is due (so a duplicate trigger costs one row read), or always when it was asked for by hand
 * (`reason: 'manual'`, written by `refreshJobs.requestNow`). Then it moves itself back to delayed at the account's
 * next run time (`job.moveToDelayed` + `DelayedError`), so there is never a moment without a job and never a second
 * one; it ends (completes, and is removed) only when the account is gone, disconnected or needs re-authorization.
 *
 * Retries of failed refreshes are the same move, at the backoff the service recorded. They do not use BullMQ's
 * `attempts`: those count over the job's whole life and would eventually give up on an account whose refresh token
 * TikTok still honours. BullMQ's attempts stay as the net for unexpected errors (database down), and the reconciler
 * replaces a job that exhausted them.
 *
 * Jobs of the current format carry no BullMQ options at all (see `defaultJobOptions.tokenRefresh`): an unexpected
 * error (database down) moves the job to delayed here, 15–30 s later, instead of spending BullMQ attempts.
 *
 * Jobs of the legacy format (id `refresh-<accountId>`, data `{ accountId }`, options with attempts) still run: after
 * their refresh they hand the account over to a job with the current id, due at the same time, and end.
 */
export function tokenRefreshProcessor(
  accounts: Accounts,
  metrics?: WorkerMetrics,
): (job: Job, token?: string, signal?: AbortSignal) => Promise<TokenRefreshJobResult> {
  return async (job, token, signal) => {
    const parsed = tokenRefreshPayload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(describePayloadIssues('token.refresh', parsed.error.issues));
    const { reason } = parsed.data;
    const accountId = parsed.data.accountId ?? accountIdOfRefreshJob(job.id);
    if (!accountId || !isUuid(accountId)) {
      throw new UnrecoverableError('token.refresh payload is invalid: accountId (not a UUID)');
    }
    const legacy = job.id?.startsWith('refresh-') === true;

    try {
      const manual = reason === 'manual';
      // The signal is BullMQ's: aborted when the worker gives up on its jobs at the end of a stop.
      const result = await accounts.refresh(accountId, {
        reason,
        force: manual,
        schedule: false,
        ...(signal ? { signal } : {}),
      });
      metrics?.refreshOutcomes.inc({ result: result.outcome, reason });

      let next = accounts.refreshJobs.nextRunAt(result.account, result.retryAt);
      // Ending: but a reconnect may have committed while this run read the old row, and its scheduling left this
      // running job alone ("it reschedules itself"): look at the row once more before giving the account up.
      next ??= accounts.refreshJobs.nextRunAt(await accounts.readTokenRow(accountId));
      if (!next || !token) return { outcome: result.outcome, nextRunAt: null };
      if (legacy) {
        // Hand over to a job with the current id and end (this one is removed on completion).
        await accounts.refreshJobs.schedule({ id: accountId, nextRefreshAt: next });
        return { outcome: result.outcome, nextRunAt: null };
      }
      // A "refresh now" that arrived during a scheduled run could not promote the running job: run again at once.
      const requestedMeanwhile = !manual && (await accounts.refreshJobs.manualRequested(accountId));
      if (requestedMeanwhile) {
        next = new Date(accounts.now());
      } else if (Object.keys(job.data as object).length !== 0) {
        // Back to the empty scheduled payload: a manual job would otherwise force every later run too.
        await job.updateData({});
      }
      await job.moveToDelayed(Date.now() + accounts.refreshJobs.delayUntil(next), token);
      throw new RefreshRescheduled(result.outcome, next);
    } catch (error) {
      if (error instanceof DelayedError || error instanceof UnrecoverableError || legacy || !token) throw error;
      // Unexpected (database or Redis trouble): try again a little later, as the same job.
      const retryAt = new Date(Date.now() + 15_000 + Math.round(Math.random() * 15_000));
      await job.moveToDelayed(retryAt.getTime(), token);
      throw new RefreshRescheduled('failed', retryAt, error);
    }
  };
}

/** The {@link DelayedError} a refresh job ends with when it moved itself to its next run; carries what it did. */
export class RefreshRescheduled extends DelayedError {
  readonly outcome: RefreshOutcome;
  readonly nextRunAt: Date;
  /** The unexpected error this run met, when it moved itself to retry after it. */
  override readonly cause?: unknown;
  constructor(outcome: RefreshOutcome, nextRunAt: Date, cause?: unknown) {
    super();
    // BullMQ also recognises delays by name; keep the one it knows.
    this.name = 'DelayedError';
    this.outcome = outcome;
    this.nextRunAt = nextRunAt;
    if (cause !== undefined) this.cause = cause;
  }
}
