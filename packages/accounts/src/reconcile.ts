import { Prisma } from '@ttc/db';
import { reconcileLockKey, reconcileMarkKey } from '@ttc/queue';
import type { AccountsContext } from './deps.js';
import { tryLock } from './lock.js';
import { readTokenRow } from './refresh.js';
import type { BulkScheduleReport } from './refresh-jobs.js';

export interface ReconcileReport {
  /**
   * `full`: every ACTIVE account was checked. `changed`: only accounts whose row changed since the previous pass
   * (the watermark in Redis says nothing was lost otherwise; see {@link reconcileRefreshJobs}).
   */
  mode: 'full' | 'changed';
  /** ACTIVE accounts looked at. */
  scanned: number;
  /** Of those, accounts whose refresh job was there. */
  present: number;
  /** Jobs that were missing (Redis lost them) and were added back. */
  added: number;
  /** Failed jobs (BullMQ attempts exhausted by unexpected errors) replaced by fresh ones. */
  replacedFailed: number;
  /**
   * Of the accounts looked at, ACTIVE ones whose access token has expired while their refreshes fail (should be 0).
   * Idle accounts whose access token the refresh policy lets expire are not counted: they refresh on demand.
   */
  accessTokenExpired: number;
  pages: number;
  durationMs: number;
}

export interface ReconcileOptions {
  /** Accounts per page (one SQL query, one Lua call and at most one addBulk each). Default 5,000. */
  pageSize?: number;
  /**
   * Take the reconciler lock so that only one worker reconciles at a time (default true). A pass that finds it taken
   * returns null: the other worker's pass does the same work.
   */
  useLock?: boolean;
  /** Check every account whatever the watermark says (true), or only changed ones when it allows (default). */
  full?: boolean;
  /** A full pass at least this often even when the watermark is intact. Default 6 hours. */
  fullEveryMs?: number;
}

/** Rows changed this long before the previous pass started are looked at again (clock skew, long transactions). */
const CHANGED_MARGIN_MS = 5 * 60_000;

/**
 * One page as one row: `entries` is `<id> <nextRefreshAt ms>|…` in id order (the due time empty when the column is
 * null). One text value per page costs far less to decode than 5,000 rows.
 */
interface Page {
  entries: string | null;
  /** The cursor of the next page: the last row's id (and `updated_at`, for a pass over changed rows). */
  last: string | null;
  lastAt: Date | null;
  /** Of the page, accounts whose access token has expired. */
  expired: number;
}

interface Cursor {
  id: string;
  at: Date;
}

/**
 * Gives every ACTIVE account its refresh job back if Redis lost it (restart without persistence, FLUSHALL,
 * eviction, a failover that lost writes), and nothing to any other account.
 *
 * Postgres is the source of truth: a keyset scan over ACTIVE accounts in id order (the primary key index), page by
 * page; per page one Lua call tells which job hashes exist (no Redis key scan), and one `addBulk` adds the missing
 * ones, due at the row's `nextRefreshAt` (at once when that is past). Existing jobs are left as they are. The next
 * page's query runs while Redis checks the current one, and one page's `addBulk` while the next page is checked.
 * Safe to run at any time and from several workers (the lock only avoids duplicate work; `addBulk` with
 * deterministic ids is idempotent).
 *
 * The watermark: a pass that completes records its start time in a Redis hash next to the jobs
 * (`reconcileMarkKey`). While that hash is there, Redis has not lost its data since, and a job can only be missing
 * for an account whose row changed meanwhile (its scheduling failed, or a failover lost the write): the next pass
 * then checks only the rows updated since the previous pass started (minus a margin), through the `updated_at`
 * index. When the hash is gone (Redis restarted empty, FLUSHALL, eviction) or the last full pass is older than
 * `fullEveryMs`, the pass checks every account.
 */
export async function reconcileRefreshJobs(
  ctx: AccountsContext,
  opts: ReconcileOptions = {},
): Promise<ReconcileReport | null> {
  const pageSize = opts.pageSize ?? 5_000;
  const lockTtlMs = 60_000;
  const lock = opts.useLock === false ? null : await tryLock(ctx.redis, reconcileLockKey(ctx.queuePrefix), lockTtlMs);
  if (opts.useLock !== false && !lock) return null;
  const started = Date.now();
  const startedAt = ctx.now();
  const markKey = reconcileMarkKey(ctx.queuePrefix);
  const mark = await ctx.redis.hmget(markKey, 'full', 'last');
  const lastFull = Number(mark[0] ?? Number.NaN);
  const lastPass = Number(mark[1] ?? Number.NaN);
  const full =
    opts.full === true ||
    !Number.isFinite(lastFull) ||
    !Number.isFinite(lastPass) ||
    startedAt - lastFull >= (opts.fullEveryMs ?? 6 * 3_600_000);
  const report: ReconcileReport = {
    mode: full ? 'full' : 'changed',
    scanned: 0,
    present: 0,
    added: 0,
    replacedFailed: 0,
    accessTokenExpired: 0,
    pages: 0,
    durationMs: 0,
  };
  // Full: keyset over the primary key. Changed: keyset over (updated_at, id), the index of that name; a row updated
  // during the pass may move past the cursor, and is then the next pass's (its window starts before this one did).
  const since = new Date(lastPass - CHANGED_MARGIN_MS);
  const fetchPage = async (after: Cursor): Promise<Page> => {
    const now = new Date(ctx.now());
    const where = full
      ? Prisma.sql`id > ${after.id}::uuid`
      : Prisma.sql`updated_at >= ${since} AND (updated_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)`;
    const order = full ? Prisma.sql`id` : Prisma.sql`updated_at, id`;
    const lastFirst = full ? Prisma.sql`id DESC` : Prisma.sql`updated_at DESC, id DESC`;
    const [page] = await ctx.prisma.$queryRaw<Page[]>`
      WITH page AS (
        SELECT id, updated_at, next_refresh_at, access_token_expires_at, refresh_failure_count
        FROM social_accounts
        WHERE status = 'ACTIVE'::"account_status" AND ${where}
        ORDER BY ${order}
        LIMIT ${pageSize}
      )
      SELECT string_agg(id::text || ' ' || coalesce((extract(epoch FROM next_refresh_at) * 1000)::bigint::text, ''),
          '|') AS entries,
        (array_agg(id::text ORDER BY ${lastFirst}))[1] AS last,
        max(updated_at) AS "lastAt",
        (count(*) FILTER (WHERE access_token_expires_at <= ${now} AND refresh_failure_count > 0))::int AS expired
      FROM page`;
    return page ?? { entries: null, last: null, lastAt: null, expired: 0 };
  };
  let inFlight: Promise<BulkScheduleReport> | null = null;
  const count = (result: BulkScheduleReport) => {
    report.present += result.present;
    report.added += result.added;
    report.replacedFailed += result.replacedFailed;
  };
  try {
    let next: Promise<Page> | null = fetchPage({ id: '00000000-0000-0000-0000-000000000000', at: since });
    while (next) {
      const page: Page = await next;
      if (!page.entries || !page.last) break;
      const entries = page.entries.split('|');
      // Read the next page while Redis checks this one.
      next = entries.length < pageSize ? null : fetchPage({ id: page.last, at: page.lastAt ?? since });
      next?.catch(() => undefined);
      report.accessTokenExpired += page.expired;
      const missingDue: string[] = [];
      const accounts = entries.map((entry) => {
        const id = entry.slice(0, 36);
        const due = entry.slice(37);
        if (due === '') missingDue.push(id);
        return { id, nextRefreshAt: new Date(due === '' ? ctx.now() : Number(due)) };
      });
      if (missingDue.length > 0) {
        // No nextRefreshAt on the row (should not happen): the policy computes it from the row.
        for (const account of accounts) {
          if (!missingDue.includes(account.id)) continue;
          const row = await readTokenRow(ctx, account.id);
          account.nextRefreshAt = ctx.refreshJobs.nextRunAt(row) ?? account.nextRefreshAt;
        }
      }
      // One page's addBulk in flight while the next page is read and checked: Node's work overlaps Redis's.
      const ensuring = ctx.refreshJobs.ensure(accounts);
      ensuring.catch(() => undefined);
      if (inFlight) count(await inFlight);
      inFlight = ensuring;
      report.scanned += accounts.length;
      report.pages++;
      if (lock && !(await lock.extend(lockTtlMs))) {
        ctx.logger?.warn({ pages: report.pages }, 'reconciler lock lost mid-pass; finishing anyway (idempotent)');
      }
    }
    if (inFlight) count(await inFlight);
    // The pass completed: vouch for Redis up to its start.
    await ctx.redis.hset(markKey, full ? { full: startedAt, last: startedAt } : { last: startedAt });
  } finally {
    await lock?.release();
  }
  report.durationMs = Date.now() - started;
  const log = { ...report };
  if (report.added > 0 || report.replacedFailed > 0) {
    ctx.logger?.warn(log, 'reconciler restored missing refresh jobs');
  } else {
    ctx.logger?.info(log, 'reconciler pass: every active account has its refresh job');
  }
  return report;
}
