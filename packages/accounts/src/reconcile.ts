import { reconcileLockKey } from '@ttc/queue';
import { type AccountsDeps, resolveLifecycleSettings } from './deps.js';
import { tryLock } from './lock.js';
import { computeNextRefreshAt, scheduleRefreshJobs } from './schedule.js';

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
  next_refresh_at: Date | null;
  access_token_expires_at: Date | null;
  tokens_obtained_at: Date;
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
  deps: AccountsDeps,
  opts: ReconcileOptions = {},
): Promise<ReconcileReport | null> {
  const pageSize = opts.pageSize ?? 5_000;
  const s = resolveLifecycleSettings(deps);
  const lockTtlMs = 60_000;
  const lock = opts.useLock === false ? null : await tryLock(deps.redis, reconcileLockKey(deps.queuePrefix), lockTtlMs);
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
      const rows = await deps.prisma.$queryRaw<Page[]>`
        SELECT id::text AS id, next_refresh_at, access_token_expires_at, tokens_obtained_at
        FROM social_accounts
        WHERE status = 'ACTIVE'::"account_status" AND id > ${after}::uuid
        ORDER BY id
        LIMIT ${pageSize}`;
      if (rows.length === 0) break;
      const now = Date.now();
      const accounts = rows.map((r) => {
        if (r.access_token_expires_at && r.access_token_expires_at.getTime() <= now) report.accessTokenExpired++;
        const nextRefreshAt =
          r.next_refresh_at ??
          (r.access_token_expires_at
            ? computeNextRefreshAt(
                { obtainedAt: r.tokens_obtained_at, accessTokenExpiresAt: r.access_token_expires_at },
                s,
              )
            : new Date(now));
        return { id: r.id, nextRefreshAt };
      });
      const page = await scheduleRefreshJobs(deps, accounts, 'reconcile');
      report.scanned += rows.length;
      report.present += page.present;
      report.added += page.added;
      report.replacedFailed += page.replacedFailed;
      report.pages++;
      after = rows[rows.length - 1]?.id ?? after;
      if (lock && !(await lock.extend(lockTtlMs))) {
        deps.logger?.warn({ pages: report.pages }, 'reconciler lock lost mid-pass; finishing anyway (idempotent)');
      }
      if (rows.length < pageSize) break;
    }
  } finally {
    await lock?.release();
  }
  report.durationMs = Date.now() - started;
  const log = { ...report };
  if (report.added > 0 || report.replacedFailed > 0) {
    deps.logger?.warn(log, 'reconciler restored missing refresh jobs');
  } else {
    deps.logger?.info(log, 'reconciler pass: every active account has its refresh job');
  }
  return report;
}
