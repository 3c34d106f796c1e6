import { reconcileLockKey } from '@ttc/queue';
import type { AccountsContext } from './deps.js';
import { tryLock } from './lock.js';

export interface ReconcileReport {
  /** ACTIVE accounts looked at. */
  scanned: number;
  /** Of those, accounts whose refresh job was there. */
  present: number;
  /** Jobs that were missing (Redis lost them) and were added back. */
  added: number;
  /** Failed jobs (BullMQ attempts exhausted by unexpected errors) replaced by fresh ones. */
  replacedFailed: number;
  /** ACTIVE accounts whose access token has expired: refreshes failing past expiry (should be 0). */
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
}

interface Page {
  id: string;
  nextRefreshAt: Date | null;
  accessTokenExpiresAt: Date | null;
  tokensObtainedAt: Date;
}

/**
 * Gives every ACTIVE account its refresh job back if Redis lost it (restart without persistence, FLUSHALL,
 * eviction), and nothing to any other account.
 *
 * Postgres is the source of truth: a keyset scan over ACTIVE accounts in id order, page by page; per page one Lua
 * call tells which job hashes exist (no Redis key scan), and one `addBulk` adds the missing ones, due at the row's
 * `nextRefreshAt` (at once when that is past). Existing jobs are left as they are. Safe to run at any time and from
 * several workers (the lock only avoids duplicate work; `addBulk` with deterministic ids is idempotent).
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
  const report: ReconcileReport = {
    scanned: 0,
    present: 0,
    added: 0,
    replacedFailed: 0,
    accessTokenExpired: 0,
    pages: 0,
    durationMs: 0,
  };
  try {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      // Ordered by the column, not by the text alias of the same name: that would sort every remaining row per page.
      const rows = await ctx.prisma.$queryRaw<Page[]>`
        SELECT id::text AS id, next_refresh_at AS "nextRefreshAt", access_token_expires_at AS "accessTokenExpiresAt",
          tokens_obtained_at AS "tokensObtainedAt"
        FROM social_accounts
        WHERE status = 'ACTIVE'::"account_status" AND id > ${after}::uuid
        ORDER BY social_accounts.id
        LIMIT ${pageSize}`;
      if (rows.length === 0) break;
      const now = ctx.now();
      const accounts = rows.map((r) => {
        if (r.accessTokenExpiresAt && r.accessTokenExpiresAt.getTime() <= now) report.accessTokenExpired++;
        return { id: r.id, nextRefreshAt: ctx.refreshJobs.nextRunAt({ status: 'ACTIVE', ...r }) ?? new Date(now) };
      });
      const page = await ctx.refreshJobs.ensure(accounts);
      report.scanned += rows.length;
      report.present += page.present;
      report.added += page.added;
      report.replacedFailed += page.replacedFailed;
      report.pages++;
      after = rows[rows.length - 1]?.id ?? after;
      if (lock && !(await lock.extend(lockTtlMs))) {
        ctx.logger?.warn({ pages: report.pages }, 'reconciler lock lost mid-pass; finishing anyway (idempotent)');
      }
      if (rows.length < pageSize) break;
    }
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
