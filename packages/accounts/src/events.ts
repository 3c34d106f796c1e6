import { reconcileMarkKey } from '@ttc/queue';
import type { AccountsContext } from './deps.js';

export interface PruneEventsOptions {
  /** Routine events older than this many days are deleted (`EVENT_RETENTION_DAYS`). */
  retentionDays: number;
  /** Events looked at per statement (each its own short transaction). Default 5,000. */
  batchSize?: number;
  /** Statements per call at most, so that a pass ends; the next pass goes on where this one stopped. Default 200. */
  maxBatches?: number;
}

export interface PruneEventsReport {
  deleted: number;
  batches: number;
  /** Newest event id the pass looked at (the watermark the next pass starts after). */
  lastId: string | null;
  durationMs: number;
}

/**
 * Deletes routine `REFRESHED` events older than `retentionDays`: with 2-hour tokens they are up to 12 rows per account
 * per day, and they tell nothing an operator needs after a while (the row holds the last refresh). Every event that
 * records a change of state is kept: CONNECTED, RECONNECTED, REFRESH_FAILED, REAUTH_REQUIRED, DISCONNECTED, REVOKED,
 * REVOKE_SKIPPED, REFRESH_TOKEN_EXPIRING, and the REFRESHED events that mark a recovery (`data.recovered`, the
 * `account.recovered` webhook).
 *
 * Bounded work, no long locks: the newest event older than the cutoff is found through the `(created_at, id)` index;
 * then the events up to it are walked in id order (the primary key), `batchSize` at a time, each batch one DELETE
 * statement of its own; a pass stops after `maxBatches`. Where a pass stopped is kept in Redis (next to the
 * reconciler's watermark), so the kept old events are not walked again; without it the walk starts over, which costs
 * time, never correctness.
 */
export async function pruneRoutineEvents(ctx: AccountsContext, opts: PruneEventsOptions): Promise<PruneEventsReport> {
  const started = Date.now();
  const batchSize = opts.batchSize ?? 5_000;
  const maxBatches = opts.maxBatches ?? 200;
  const cutoff = new Date(ctx.now() - opts.retentionDays * 86_400_000);
  const report: PruneEventsReport = { deleted: 0, batches: 0, lastId: null, durationMs: 0 };
  const [newest] = await ctx.prisma.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM account_events WHERE created_at < ${cutoff}
    ORDER BY created_at DESC, id DESC LIMIT 1`;
  if (!newest) {
    report.durationMs = Date.now() - started;
    return report;
  }
  const markKey = reconcileMarkKey(ctx.queuePrefix);
  let after = (await ctx.redis.hget(markKey, 'pruned').catch(() => null)) ?? '0';
  if (!/^\d+$/.test(after)) after = '0';
  while (report.batches < maxBatches && BigInt(after) < BigInt(newest.id)) {
    const [batch] = await ctx.prisma.$queryRaw<{ last: string | null; deleted: number }[]>`
      WITH scanned AS (
        SELECT id, type, data, created_at FROM account_events
        WHERE id > ${after}::bigint AND id <= ${newest.id}::bigint
        ORDER BY id LIMIT ${batchSize}
      ), deleted AS (
        DELETE FROM account_events e USING scanned s
        WHERE e.id = s.id AND s.type = 'REFRESHED'::"account_event_type" AND s.created_at < ${cutoff}
          AND NOT coalesce((s.data->>'recovered')::boolean, false)
        RETURNING e.id
      )
      SELECT (SELECT max(id) FROM scanned)::text AS last, (SELECT count(*) FROM deleted)::int AS deleted`;
    report.batches++;
    if (!batch?.last) break;
    report.deleted += batch.deleted;
    after = batch.last;
    report.lastId = after;
  }
  if (report.lastId) await ctx.redis.hset(markKey, 'pruned', report.lastId).catch(() => undefined);
  report.durationMs = Date.now() - started;
  if (report.deleted > 0) ctx.logger?.info({ ...report, retentionDays: opts.retentionDays }, 'pruned routine events');
  return report;
}
