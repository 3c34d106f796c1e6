import { jobIds, QueueNames, type TokenRefreshJobData, type TokenRefreshPayload } from '@ttc/queue';
import type { AccountsDeps, TokenLifecycleSettings } from './deps.js';

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

export type ScheduleResult = 'added' | 'rescheduled' | 'pending';

/**
 * Scheduled and reconciled jobs carry `{ accountId }` only: one job per account lives in Redis all the time, so its
 * size is paid a million times over (reason defaults to `scheduled`; the due time is the job's own delay).
 */
function refreshJobData(accountId: string, reason: TokenRefreshPayload['reason']): TokenRefreshJobData {
  return reason === 'scheduled' || reason === 'reconcile' ? { accountId } : { accountId, reason };
}

/**
 * Never 0: a delay of 0 marks a job promoted by hand (BullMQ's `promote` sets it), which the processor takes as
 * "refresh now". A job due at once is added 1 ms late instead.
 */
function delayUntil(at: Date, now = Date.now()): number {
  return Math.max(1, at.getTime() - now);
}

/**
 * Makes the account's one `token.refresh` job (id `refresh-<accountId>`) due at `nextRefreshAt`.
 *
 * - no job → added, delayed;
 * - a delayed job → its delay is changed in place (`changeDelay`): the job id is deterministic, so adding again would
 *   be a no-op and leave the old time;
 * - a failed or completed job → removed and added again;
 * - a waiting or running job → left alone: it is about to run, and the processor reschedules itself from the row.
 *
 * The payload is `{ accountId }`: no token ever goes to Redis.
 */
export async function scheduleRefresh(
  deps: AccountsDeps,
  account: { id: string; nextRefreshAt: Date },
  reason: TokenRefreshPayload['reason'] = 'scheduled',
): Promise<ScheduleResult> {
  const queue = deps.queues.tokenRefresh;
  const jobId = jobIds.tokenRefresh(account.id);
  const data = refreshJobData(account.id, reason);
  let lastError: unknown;
  // A job can change state between our read and our write (a worker takes it, say): look again, a few times.
  for (let attempt = 0; attempt < 4; attempt++) {
    const delay = delayUntil(account.nextRefreshAt);
    try {
      const job = await queue.getJob(jobId);
      if (!job) {
        await queue.add(QueueNames.tokenRefresh, data, { jobId, delay });
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
}

// One call per page: is each job there, and is it a failed one (which the reconciler replaces)?
// 0 = missing, 1 = present, 2 = present but failed.
const JOB_STATES = `
local out = {}
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    out[i] = 0
  elseif redis.call('ZSCORE', ARGV[1], ARGV[i + 1]) then
    out[i] = 2
  else
    out[i] = 1
  end
end
return out`;

export interface BulkScheduleReport {
  /** Jobs that already existed (delayed, waiting or running): left alone. */
  present: number;
  /** Jobs that were missing and were added. */
  added: number;
  /** Failed jobs that were removed and added again. */
  replacedFailed: number;
}

/**
 * Ensures every given account has its refresh job, in bulk: one Lua call tells which job hashes exist, one
 * `addBulk` adds the missing ones (delay from `nextRefreshAt`). Existing jobs keep their time. Used by the
 * reconciler, page by page; no Redis key scan is ever needed.
 */
export async function scheduleRefreshJobs(
  deps: AccountsDeps,
  accounts: readonly { id: string; nextRefreshAt: Date }[],
  reason: TokenRefreshPayload['reason'] = 'reconcile',
): Promise<BulkScheduleReport> {
  const report: BulkScheduleReport = { present: 0, added: 0, replacedFailed: 0 };
  if (accounts.length === 0) return report;
  const queue = deps.queues.tokenRefresh;
  const ids = accounts.map((a) => jobIds.tokenRefresh(a.id));
  const states = (await deps.redis.eval(
    JOB_STATES,
    ids.length,
    ...ids.map((id) => queue.toKey(id)),
    queue.toKey('failed'),
    ...ids,
  )) as number[];
  const now = Date.now();
  const missing: { name: string; data: TokenRefreshJobData; opts: { jobId: string; delay: number } }[] = [];
  for (let i = 0; i < accounts.length; i++) {
    const state = states[i];
    const account = accounts[i];
    const jobId = ids[i];
    if (account === undefined || jobId === undefined) continue;
    if (state === 1) {
      report.present++;
      continue;
    }
    if (state === 2) {
      await queue.remove(jobId);
      report.replacedFailed++;
    } else {
      report.added++;
    }
    missing.push({
      name: QueueNames.tokenRefresh,
      data: refreshJobData(account.id, reason),
      opts: { jobId, delay: delayUntil(account.nextRefreshAt, now) },
    });
  }
  if (missing.length > 0) await queue.addBulk(missing);
  return report;
}

/** Removes the account's refresh job. A running job cannot be removed; it ends itself when it sees the account inactive. */
export async function cancelRefresh(deps: AccountsDeps, accountId: string): Promise<boolean> {
  const removed = await deps.queues.tokenRefresh.remove(jobIds.tokenRefresh(accountId));
  return removed === 1;
}
