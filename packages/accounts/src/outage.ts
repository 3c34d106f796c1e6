import { jobIds } from '@ttc/queue';
import { isTikTokError, TIKTOK_ERROR_KINDS } from '@ttc/tiktok';
import type { AccountsContext } from './deps.js';

/**
 * A circuit breaker on TikTok's token endpoint, shared by every process through Redis, so that the end of an outage
 * is noticed at once rather than at each account's next backoff (capped at `retryMaxMs`, 5 min):
 *
 * - **open**: a refresh fails with an outage error (5xx, 429, network error, timeout) → the outage key is set (it
 *   lapses on its own 15 min after the last such failure). Failed refreshes keep their exponential backoff, so an
 *   outage does not turn into a storm of retries.
 * - **half-open probe**: one failing refresh per `outageProbeMs` (5 s; never sooner than TikTok's Retry-After) takes
 *   the probe slot (`SET NX PX`) and is retried after that short delay instead of its backoff: at most one extra
 *   refresh per probe interval reaches TikTok while it is down.
 * - **close**: the first refresh that succeeds while the key exists deletes it (`DEL` answers 1 to one caller only),
 *   and that caller promotes every account that is backing off: one `UPDATE … RETURNING` makes their rows due now
 *   (`next_refresh_at`, which the refresh job checks) and their delayed jobs are promoted to waiting. The workers
 *   then take them at their own concurrency (`WORKER_CONCURRENCY` per worker): the same bound on calls to TikTok
 *   as in normal operation, not a thundering herd.
 *
 * Not `queue.promoteJobs()`: it promotes every delayed job of the queue (every healthy account's future refresh).
 */
export interface OutageBreaker {
  /**
   * After a failed refresh: when `error` is an outage, records it. Resolves with the probe's delay when this refresh is
   * the probe (retry it that soon instead of its backoff), else null.
   */
  onFailure(error: unknown, retryAfterSeconds?: number): Promise<number | null>;
  /** After a successful refresh: closes an open outage and promotes the accounts that were backing off. */
  onSuccess(): Promise<void>;
  /** Promotes the backing-off accounts now; resolves with how many jobs were promoted. */
  promoteBackingOff(): Promise<number>;
}

/** Outage errors: TikTok (or the way to it) is failing, whatever the account. */
export function isOutageError(error: unknown): boolean {
  return isTikTokError(error) && TIKTOK_ERROR_KINDS[error.code] === 'transient';
}

const OUTAGE_TTL_MS = 15 * 60_000;
/** Redis calls in flight while promoting. */
const PROMOTE_CONCURRENCY = 20;

export function outageKeys(prefix: string) {
  return { outage: `${prefix}:tiktok:outage`, probe: `${prefix}:tiktok:outage-probe` };
}

export function createOutageBreaker(
  ctx: Pick<AccountsContext, 'redis' | 'prisma' | 'queues' | 'queuePrefix' | 'settings' | 'now' | 'logger'>,
): OutageBreaker {
  const keys = outageKeys(ctx.queuePrefix);
  const probeMs = () => ctx.settings.outageProbeMs;

  const promoteBackingOff = async (): Promise<number> => {
    const now = new Date(ctx.now());
    const rows = await ctx.prisma.$queryRaw<{ id: string }[]>`
      UPDATE social_accounts SET next_refresh_at = ${now}
      WHERE status = 'ACTIVE'::"account_status" AND refresh_failure_count > 0 AND next_refresh_at > ${now}
      RETURNING id::text AS id`;
    let promoted = 0;
    let next = 0;
    const promoteOne = async () => {
      for (let i = next++; i < rows.length; i = next++) {
        const id = rows[i]?.id;
        if (!id) continue;
        // The compact job, else a job of the legacy format not yet handed over.
        const job =
          (await ctx.queues.tokenRefresh.getJob(jobIds.tokenRefresh(id))) ??
          (await ctx.queues.tokenRefresh.getJob(jobIds.legacyTokenRefresh(id)));
        // Only delayed jobs move; a waiting or running one reads the row (now due) when it runs.
        if (
          job &&
          (await job.promote().then(
            () => true,
            () => false,
          ))
        )
          promoted++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(PROMOTE_CONCURRENCY, rows.length) }, promoteOne));
    ctx.logger?.info({ accounts: rows.length, promoted }, 'TikTok is back: refreshes that were backing off promoted');
    return promoted;
  };

  return {
    async onFailure(error, retryAfterSeconds) {
      if (!isOutageError(error)) return null;
      try {
        // One round trip (auto-pipelined): the outage mark, kept alive by every failure (GET: was it open?), and the
        // probe slot, which lapses a little before the probe runs again so that the same job takes it again.
        const [previous, probe] = await Promise.all([
          ctx.redis.set(keys.outage, String(ctx.now()), 'PX', OUTAGE_TTL_MS, 'GET'),
          ctx.redis.set(keys.probe, '1', 'PX', Math.floor(probeMs() * 0.8), 'NX'),
        ]);
        if (previous === null) ctx.logger?.warn({}, 'TikTok outage: refreshes back off, one probe per interval');
        return probe === 'OK' ? Math.max(probeMs(), (retryAfterSeconds ?? 0) * 1000) : null;
      } catch {
        // Redis down: the breaker is an optimisation; the backoff alone still retries.
        return null;
      }
    },

    async onSuccess() {
      let closed: number;
      try {
        closed = await ctx.redis.del(keys.outage);
      } catch {
        return;
      }
      if (closed !== 1) return;
      await promoteBackingOff().catch((err: unknown) =>
        ctx.logger?.warn({ err }, 'could not promote the refreshes that were backing off; their backoff stands'),
      );
    },

    promoteBackingOff,
  };
}
