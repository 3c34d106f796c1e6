import { jobIds, jobPresence, QueueNames, type TokenRefreshJobData } from '@ttc/queue';
import type { AccountsContext, TokenLifecycleSettings } from './deps.js';

/**
 * The life of an account's one `token.refresh` job (id `jobIds.tokenRefresh(accountId)`), in one place: when it is due, adding
 * or moving it, asking for a refresh now, cancelling it, and restoring lost ones in bulk. The processor in the worker
 * runs it; everything else goes through {@link RefreshJobs}.
 */

/**
 * How long before expiry a token with this lifetime is refreshed: `refreshLeadSeconds`, but never more than
 * `leadShare` of the lifetime. A token that lives 20 s is refreshed 5 s before it expires, not 10 minutes "before".
 */
export function refreshLeadMs(
  lifetimeMs: number,
  s: Pick<TokenLifecycleSettings, 'refreshLeadSeconds' | 'leadShare'>,
): number {
  return Math.max(0, Math.min(s.refreshLeadSeconds * 1000, lifetimeMs * s.leadShare));
}

/**
 * When the refresh of tokens obtained at `obtainedAt` and expiring at `accessTokenExpiresAt` is due: expiry minus the
 * lead minus a random jitter (up to `jitterShare` of the lead, so the refresh only ever moves earlier), and never
 * before the tokens were obtained.
 */
export function computeNextRefreshAt(
  t: { obtainedAt: Date; accessTokenExpiresAt: Date },
  s: Pick<TokenLifecycleSettings, 'refreshLeadSeconds' | 'leadShare' | 'jitterShare'>,
  random: () => number = Math.random,
): Date {
  const expires = t.accessTokenExpiresAt.getTime();
  const lead = refreshLeadMs(expires - t.obtainedAt.getTime(), s);
  const jitter = random() * s.jitterShare * lead;
  return new Date(Math.max(t.obtainedAt.getTime(), Math.round(expires - lead - jitter)));
}

/** What the refresh policy needs of an account's row. */
export interface PolicyInput {
  tokensObtainedAt: Date;
  accessTokenExpiresAt: Date;
  refreshTokenExpiresAt: Date | null;
  accessRequestedAt: Date | null;
}

type PolicySettings = Pick<
  TokenLifecycleSettings,
  'refreshLeadSeconds' | 'leadShare' | 'jitterShare' | 'activeWindowMs' | 'idleRefreshEveryMs'
>;

/** Whether the account counts as in use: its access token was asked for within the active window (or the policy is off). */
export function isActiveAccount(accessRequestedAt: Date | null, now: number, s: PolicySettings): boolean {
  if (s.activeWindowMs <= 0) return true;
  return accessRequestedAt !== null && now - accessRequestedAt.getTime() < s.activeWindowMs;
}

/**
 * THE refresh policy: when the tokens of this row are refreshed next.
 * - In use (asked for within `activeWindowMs`, or `active` forced, as an on-demand refresh does): ahead of the access
 *   token's expiry ({@link computeNextRefreshAt}), so callers always find a valid token.
 * - Idle: only to keep the refresh chain alive: `idleRefreshEveryMs` after the tokens were obtained, or half way to
 *   the refresh token's expiry if that comes first, minus up to 10 % jitter; never earlier than the in-use time. The
 *   access token is left to expire; the access-token API refreshes it on demand when it is asked for.
 */
export function policyNextRefreshAt(
  t: PolicyInput,
  now: number,
  s: PolicySettings,
  opts: { active?: boolean; random?: () => number } = {},
): { at: Date; active: boolean } {
  const random = opts.random ?? Math.random;
  const ahead = computeNextRefreshAt(
    { obtainedAt: t.tokensObtainedAt, accessTokenExpiresAt: t.accessTokenExpiresAt },
    s,
    random,
  );
  const active = opts.active === true || isActiveAccount(t.accessRequestedAt, now, s);
  if (active) return { at: ahead, active };
  const obtained = t.tokensObtainedAt.getTime();
  let span = s.idleRefreshEveryMs;
  if (t.refreshTokenExpiresAt) span = Math.min(span, (t.refreshTokenExpiresAt.getTime() - obtained) / 2);
  const keepAlive = obtained + span - random() * 0.1 * span;
  return { at: new Date(Math.max(ahead.getTime(), Math.round(keepAlive))), active };
}

/** Exponential backoff with "equal jitter" (half fixed, half random), capped, and never shorter than Retry-After. */
export function retryDelayMs(
  failures: number,
  s: Pick<TokenLifecycleSettings, 'retryBaseMs' | 'retryMaxMs'>,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(s.retryMaxMs, s.retryBaseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  const delay = exp / 2 + (random() * exp) / 2;
  return Math.round(Math.max(delay, (retryAfterSeconds ?? 0) * 1000));
}

/** The columns that decide when an account's refresh job runs next. */
export interface RefreshTiming {
  status: string;
  nextRefreshAt: Date | null;
  accessTokenExpiresAt: Date | null;
  tokensObtainedAt: Date;
}

export type ScheduleResult = 'added' | 'rescheduled' | 'pending';
export type RefreshNowResult = 'added' | 'promoted' | 'retried' | 'pending';

export interface BulkScheduleReport {
  /** Jobs that already existed (delayed, waiting or running): left alone. */
  present: number;
  /** Jobs that were missing and were added. */
  added: number;
  /** Failed jobs that were removed and added again. */
  replacedFailed: number;
}

/** The account's one refresh job; see the module comment. */
export interface RefreshJobs {
  /**
   * When the job of an account with this row runs next: `retryAt` (a failed attempt's backoff) first, else the row's
   * `nextRefreshAt`, else computed from its token expiry, else now. Null when the account is not ACTIVE: its job ends.
   */
  nextRunAt(row: RefreshTiming | null, retryAt?: Date): Date | null;
  /** Milliseconds from now (by the service's clock) until `at`; 0 when past. BullMQ delays are relative. */
  delayUntil(at: Date): number;
  /**
   * Makes the job due at `nextRefreshAt`: added when missing, its delay changed in place when delayed, replaced when
   * failed or completed, and left alone when waiting or running (it reschedules itself from the row when it ends).
   * `newAccount`: the row was just inserted, so no job can exist yet: added in one call, without looking first.
   */
  schedule(account: { id: string; nextRefreshAt: Date }, opts?: { newAccount?: boolean }): Promise<ScheduleResult>;
  /**
   * Ensures every given account has its job, in bulk: one Lua call tells which job hashes exist (and which failed),
   * one `addBulk` adds the missing ones. Existing jobs keep their time. No Redis key scan.
   */
  ensure(accounts: readonly { id: string; nextRefreshAt: Date }[]): Promise<BulkScheduleReport>;
  /**
   * "Refresh now" (the admin's): the job is marked `manual` (the processor then refreshes even when not due) and
   * made to run at once: promoted when delayed, retried when failed, added when missing. A waiting job keeps its
   * place; a running scheduled one runs again as soon as it ends (see {@link RefreshJobs.manualRequested}).
   */
  requestNow(accountId: string): Promise<RefreshNowResult>;
  /** Removes the job. A running job cannot be removed; it ends itself when it sees the account inactive. */
  cancel(accountId: string): Promise<boolean>;
  /**
   * Whether the job's stored data asks for a manual refresh. The processor checks it at the end of a scheduled run:
   * a `requestNow` that arrived while the job was running could not promote it, so the job runs again at once.
   */
  manualRequested(accountId: string): Promise<boolean>;
}

/**
 * Scheduled and reconciled jobs carry nothing: one job per account lives in Redis all the time, so its size is paid a
 * million times over; the account id is in the job id and the due time is the job's own delay. Their options are only
 * `jobId` and `delay` (the queue has no default options), so every field of the job hash fits Redis's compact listpack
 * encoding (values up to `hash-max-listpack-value`, 64 bytes by default).
 */
const scheduledData = (): TokenRefreshJobData => ({});
const manualData: TokenRefreshJobData = { reason: 'manual' };

export function createRefreshJobs(ctx: Pick<AccountsContext, 'queues' | 'redis' | 'settings' | 'now'>): RefreshJobs {
  const queue = ctx.queues.tokenRefresh;
  const delayUntil = (at: Date) => Math.max(0, at.getTime() - ctx.now());

  return {
    delayUntil,

    nextRunAt(row, retryAt) {
      if (row?.status !== 'ACTIVE') return null;
      if (retryAt) return retryAt;
      if (row.nextRefreshAt) return row.nextRefreshAt;
      if (row.accessTokenExpiresAt) {
        return computeNextRefreshAt(
          { obtainedAt: row.tokensObtainedAt, accessTokenExpiresAt: row.accessTokenExpiresAt },
          ctx.settings,
        );
      }
      return new Date(ctx.now());
    },

    async schedule(account, opts) {
      const jobId = jobIds.tokenRefresh(account.id);
      if (opts?.newAccount) {
        // Were it there after all, BullMQ's add with the same job id would leave it as it is.
        await queue.add(QueueNames.tokenRefresh, scheduledData(), {
          jobId,
          delay: delayUntil(account.nextRefreshAt),
        });
        return 'added';
      }
      let lastError: unknown;
      // A job can change state between our read and our write (a worker takes it, say): look again, a few times.
      for (let attempt = 0; attempt < 4; attempt++) {
        const delay = delayUntil(account.nextRefreshAt);
        try {
          const job = await queue.getJob(jobId);
          if (!job) {
            await queue.add(QueueNames.tokenRefresh, scheduledData(), { jobId, delay });
            return 'added';
          }
          const state = await job.getState();
          if (state === 'delayed') {
            await job.changeDelay(delay);
            return 'rescheduled';
          }
          if (state === 'failed' || state === 'completed' || state === 'unknown') {
            await job.remove();
            continue;
          }
          return 'pending';
        } catch (error) {
          lastError = error;
        }
      }
      throw lastError ?? new Error('could not schedule the refresh job');
    },

    async ensure(accounts) {
      const report: BulkScheduleReport = { present: 0, added: 0, replacedFailed: 0 };
      if (accounts.length === 0) return report;
      const ids = accounts.map((a) => jobIds.tokenRefresh(a.id));
      const states = await jobPresence(ctx.redis, queue, ids);
      // A job of the legacy id format counts as present: it hands over to a job with the current id when it runs.
      // Asked only about the missing ones, so a steady pass (nothing missing) costs one call.
      const missingAt = states.flatMap((state, i) => (state === 'missing' ? [i] : []));
      const legacy = new Set<number>();
      if (missingAt.length > 0) {
        const legacyIds = missingAt.map((i) => jobIds.legacyTokenRefresh(accounts[i]?.id ?? ''));
        const legacyStates = await jobPresence(ctx.redis, queue, legacyIds);
        for (let k = 0; k < legacyStates.length; k++) {
          const at = missingAt[k] ?? -1;
          if (legacyStates[k] === 'present') legacy.add(at);
          else if (legacyStates[k] === 'failed') {
            // Its attempts are spent: replaced by a job of the current format below.
            await queue.remove(legacyIds[k] ?? '');
            states[at] = 'failed';
          }
        }
      }
      const missing: { name: string; data: TokenRefreshJobData; opts: { jobId: string; delay: number } }[] = [];
      for (let i = 0; i < accounts.length; i++) {
        const state = states[i];
        const account = accounts[i];
        const jobId = ids[i];
        if (account === undefined || jobId === undefined) continue;
        if (state === 'present' || legacy.has(i)) {
          report.present++;
          continue;
        }
        if (state === 'failed') {
          await queue.remove(jobId);
          report.replacedFailed++;
        } else {
          report.added++;
        }
        missing.push({
          name: QueueNames.tokenRefresh,
          data: scheduledData(),
          opts: { jobId, delay: delayUntil(account.nextRefreshAt) },
        });
      }
      if (missing.length > 0) await queue.addBulk(missing);
      return report;
    },

    async requestNow(accountId) {
      const jobId = jobIds.tokenRefresh(accountId);
      const manual = manualData;
      for (let attempt = 0; attempt < 3; attempt++) {
        const job = await queue.getJob(jobId);
        if (!job) {
          await queue.add(QueueNames.tokenRefresh, manual, { jobId });
          return 'added';
        }
        const state = await job.getState();
        try {
          if (state === 'delayed') {
            await job.updateData(manual);
            await job.promote();
            return 'promoted';
          }
          if (state === 'failed') {
            await job.updateData(manual);
            // A fresh set of attempts: the old ones were spent on whatever made it fail.
            await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
            return 'retried';
          }
          if (state === 'completed' || state === 'unknown') {
            await job.remove();
            continue;
          }
          // Waiting: it runs as a manual refresh. Running: a scheduled run that finds the flag runs again at once.
          await job.updateData(manual);
          return 'pending';
        } catch {
          // The job changed state between the read and the action (the worker picked it up, say): look again.
        }
      }
      return 'pending';
    },

    async cancel(accountId) {
      const [removed, legacy] = await Promise.all([
        queue.remove(jobIds.tokenRefresh(accountId)),
        queue.remove(jobIds.legacyTokenRefresh(accountId)),
      ]);
      return removed === 1 || legacy === 1;
    },

    async manualRequested(accountId) {
      const raw = await ctx.redis.hget(queue.toKey(jobIds.tokenRefresh(accountId)), 'data');
      try {
        return raw !== null && (JSON.parse(raw) as { reason?: unknown }).reason === 'manual';
      } catch {
        return false;
      }
    },
  };
}
