import { loggedError } from '@ttc/config';
import { encryptToken } from '@ttc/crypto';
import { Prisma } from '@ttc/db';
import { refreshLockKey } from '@ttc/queue';
import { isTikTokError, type TikTokError, TikTokErrorCode, type TokenSet } from '@ttc/tiktok';
import { accountEventOutbox } from '@ttc/webhooks';
import { decryptAccountToken, tokenAad } from './aad.js';
import type { AccountsContext, TokenLifecycleSettings } from './deps.js';
import { AccountError, AccountErrorCode } from './errors.js';
import { type RedisLock, sleep, tryLock } from './lock.js';
import {
  computeNextRefreshAt,
  isActiveAccount,
  policyNextRefreshAt,
  refreshLeadMs,
  retryDelayMs,
} from './refresh-jobs.js';
import { assertAccountId } from './summary.js';

/** The columns the token lifecycle works with. Holds ciphertexts: internal to this package, never returned by APIs. */
export interface TokenRow {
  id: string;
  userId: string;
  openId: string;
  status: 'ACTIVE' | 'REAUTH_REQUIRED' | 'DISCONNECTED';
  scopes: string[];
  tokenVersion: number;
  accessTokenCiphertext: string | null;
  refreshTokenCiphertext: string | null;
  accessTokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  tokensObtainedAt: Date;
  nextRefreshAt: Date | null;
  refreshFailureCount: number;
  lastError: string | null;
  accessRequestedAt: Date | null;
}

/**
 * The account's token row. A raw statement (prepared once per connection, see `preparedStatementNames` in @ttc/db)
 * rather than `findUnique`: it is the hot read of `GET /v1/accounts/:id/access-token`, where Prisma's query
 * compiler and result mapping cost more CPU than the query itself (`pnpm bench gateway-api`).
 */
export async function readTokenRow(ctx: AccountsContext, accountId: string): Promise<TokenRow | null> {
  const [row] = await ctx.prisma.$queryRaw<TokenRow[]>`
    SELECT ${TOKEN_ROW_COLUMNS} FROM social_accounts WHERE id = ${accountId}::uuid`;
  return row ?? null;
}

/** {@link TokenRow}'s columns under their field names, for `RETURNING`. */
const TOKEN_ROW_COLUMNS = Prisma.raw(
  [
    'id::text AS "id"',
    'user_id AS "userId"',
    'open_id AS "openId"',
    'status::text AS "status"',
    'scopes',
    'token_version AS "tokenVersion"',
    'access_token_ciphertext AS "accessTokenCiphertext"',
    'refresh_token_ciphertext AS "refreshTokenCiphertext"',
    'access_token_expires_at AS "accessTokenExpiresAt"',
    'refresh_token_expires_at AS "refreshTokenExpiresAt"',
    'tokens_obtained_at AS "tokensObtainedAt"',
    'next_refresh_at AS "nextRefreshAt"',
    'refresh_failure_count AS "refreshFailureCount"',
    'last_error AS "lastError"',
    'access_requested_at AS "accessRequestedAt"',
  ].join(', '),
);

/**
 * SQL that inserts, for each row of the CTE `source` (columns `id`, `status`, `token_version`,
 * `refresh_token_expires_at`), the event `first` and, with `warnExpiring`, when the row is ACTIVE and its refresh
 * token expires within the warning window, a REFRESH_TOKEN_EXPIRING event after it. Only for writes of new tokens:
 * they have just bumped `token_version`, which the warning is keyed on, so it is never recorded twice.
 */
export function eventsFor(
  ctx: AccountsContext,
  source: Prisma.Sql,
  first: { type: Prisma.Sql; message: Prisma.Sql; data: Prisma.Sql },
  at: Date,
  warnExpiring: boolean,
): Prisma.Sql {
  const warn = warnExpiring
    ? Prisma.sql`OR (s.status = 'ACTIVE'::"account_status"
        AND s.refresh_token_expires_at < ${at}::timestamptz
          + make_interval(secs => ${ctx.settings.refreshTokenWarningSeconds}))`
    : Prisma.empty;
  return Prisma.sql`
    INSERT INTO account_events (account_id, type, message, data, created_at)
    SELECT s.id, e.type::"account_event_type", e.message, e.data, ${at}
    FROM ${source} s
    CROSS JOIN LATERAL (VALUES
      (1, ${first.type}, ${first.message}, ${first.data}),
      (2, 'REFRESH_TOKEN_EXPIRING',
        'The refresh token expires soon: the user will have to connect the account again',
        jsonb_build_object('tokenVersion', s.token_version, 'refreshTokenExpiresAt', s.refresh_token_expires_at))
    ) AS e(ord, type, message, data)
    WHERE e.ord = 1 ${warn}
    ORDER BY s.id, e.ord
    RETURNING account_id, type, data`;
}

/**
 * THE token write of the lifecycle: applies `set` to the row only if it is still ACTIVE at the `tokenVersion` read
 * under the lock (the fence), records `event` (and the refresh-token expiry warning, if due) in the same statement,
 * and returns the written row; null when the row moved on (a reconnect, disconnect or another refresh wrote first)
 * and nothing was written. The webhooks of those events (account.reauth_required, account.recovered for a REFRESHED
 * event whose data says `recovered`, account.refresh_token_expiring) are recorded by the same statement and enqueued
 * after it.
 */
async function writeFenced(
  ctx: AccountsContext,
  row: Pick<TokenRow, 'id' | 'tokenVersion'>,
  set: Prisma.Sql,
  event: { type: 'REFRESHED' | 'REFRESH_FAILED' | 'REAUTH_REQUIRED'; message: string; data: Record<string, unknown> },
): Promise<TokenRow | null> {
  const at = new Date(ctx.now());
  const outbox = accountEventOutbox(
    ctx.outbox.endpoints,
    { events: Prisma.sql`events`, accounts: Prisma.sql`updated` },
    at,
  );
  const rows = await ctx.prisma.$queryRaw<(TokenRow & { webhookDeliveryIds?: string[] })[]>`
    WITH updated AS (
      UPDATE social_accounts SET ${set}, updated_at = ${at}
      WHERE id = ${row.id}::uuid AND token_version = ${row.tokenVersion} AND status = 'ACTIVE'::"account_status"
      RETURNING *
    ), events AS (${eventsFor(
      ctx,
      Prisma.sql`updated`,
      {
        type: Prisma.sql`${event.type}`,
        message: Prisma.sql`${event.message}`,
        data: Prisma.sql`${JSON.stringify(event.data)}::jsonb`,
      },
      at,
      event.type === 'REFRESHED',
    )}) ${outbox.ctes}
    SELECT ${TOKEN_ROW_COLUMNS}, ${outbox.deliveryIds} AS "webhookDeliveryIds" FROM updated`;
  const [written] = rows;
  if (!written) return null;
  const { webhookDeliveryIds, ...stored } = written;
  await ctx.outbox.enqueue(webhookDeliveryIds ?? []);
  return stored;
}

export type RefreshReason = 'scheduled' | 'manual' | 'reconcile' | 'on-demand';

/**
 * - `refreshed`: this call refreshed the tokens and stored them.
 * - `not_due`: nothing to do (the token is valid long enough, or the scheduled time has not come).
 * - `refreshed_elsewhere`: another process (or an earlier call) refreshed while this one waited for the lock.
 * - `reauth_required`: TikTok answered `invalid_grant` now; the account is REAUTH_REQUIRED and its tokens are wiped.
 * - `inactive`: the account is not ACTIVE (already REAUTH_REQUIRED or DISCONNECTED).
 * - `not_found`: no such account.
 * - `failed`: TikTok (or the network) failed; recorded on the row, retry at `retryAt`.
 * - `busy`: another holder kept the lock longer than `lockWaitMs`; try again later.
 * - `lost_race`: TikTok answered but the row had moved on (a reconnect or disconnect meanwhile); nothing written.
 */
export type RefreshOutcome =
  | 'refreshed'
  | 'not_due'
  | 'refreshed_elsewhere'
  | 'reauth_required'
  | 'inactive'
  | 'not_found'
  | 'failed'
  | 'busy'
  | 'lost_race';

export interface RefreshResult {
  outcome: RefreshOutcome;
  /** The row as it stands after the attempt (null when not found). */
  account: TokenRow | null;
  /** The TikTok (or other) error of a `failed` / `reauth_required` outcome. */
  error?: unknown;
  /** When the next attempt is due (`failed` and `busy`). */
  retryAt?: Date;
}

export interface RefreshOptions {
  reason: RefreshReason;
  /**
   * Refresh when the access token expires within this (capped at half the token's lifetime: a 5-second token can
   * never be "valid for 5 minutes"). Without it, the refresh is due at the row's `nextRefreshAt`.
   */
  minValidityMs?: number;
  /** Refresh even when not due (the admin's "refresh now"). Still one at a time. */
  force?: boolean;
  /**
   * Reschedule the account's refresh job after the attempt. Default true; the refresh processor passes false
   * because it moves its own job.
   */
  schedule?: boolean;
  /**
   * Aborted when the caller stops (the worker's shutdown): the wait for another holder's lock ends, and a TikTok call
   * that has not started is not started (outcome `busy`, retried soon; nothing was spent). A refresh call already
   * sent is NOT aborted: TikTok may have rotated the refresh token, and only its answer holds the new one (aborting
   * would turn a stop into the lost-answer case below); it is bounded by its own timeout instead.
   */
  signal?: AbortSignal;
}

/**
 * Refreshes an account's tokens if due, at most one at a time per account across processes.
 *
 * One at a time: in-process callers share one promise; across processes a Redis lock (`SET NX PX`, released by
 * compare-and-delete) serializes attempts, and a caller that finds it taken waits for the holder's result (the row's
 * `tokenVersion` moving) instead of refreshing again. Every write is fenced in Postgres by
 * `WHERE token_version = <version read under the lock>`, so even a holder whose lock expired cannot overwrite newer
 * tokens (nor mark an account REAUTH_REQUIRED that someone else has refreshed).
 *
 * Rotation safety: the rotated refresh token and the access token are written in ONE compare-and-set statement
 * (with the REFRESHED event) before anything else, retried a few times on database errors while the tokens are still
 * in memory. Lifetimes come from TikTok's answer, never assumed.
 *
 * Failures: `invalid_grant` → REAUTH_REQUIRED at once (tokens wiped, event). Anything else (network, timeout, 5xx,
 * 429, unexpected answers, and also permanent errors that are about the app rather than the account, like
 * `invalid_client`) → recorded (`lastError`, `refreshFailureCount`, REFRESH_FAILED event), `nextRefreshAt` set to the
 * next attempt with exponential backoff and jitter; the account stays ACTIVE.
 *
 * The lost-answer case: when TikTok rotated the token but the answer never arrived (timeout, dropped connection),
 * the new refresh token exists only at TikTok and the stored one is spent: the next attempt gets `invalid_grant` and
 * the account becomes REAUTH_REQUIRED, its REAUTH_REQUIRED event carrying the previous error so operators can tell.
 * Nothing on our side can recover that token; the access token stays valid at TikTok until it expires, but it is
 * wiped with the rest as the account must be connected again anyway.
 */
export function refreshAccount(ctx: AccountsContext, accountId: string, opts: RefreshOptions): Promise<RefreshResult> {
  assertAccountId(accountId);
  if (opts.force) return doRefresh(ctx, accountId, opts);
  // Single flight, per service (one per process): concurrent callers for one account share one attempt.
  const key = `${accountId}:${opts.minValidityMs ?? 'scheduled'}`;
  const existing = ctx.refreshFlights.get(key);
  if (existing) return existing;
  const promise = doRefresh(ctx, accountId, opts).finally(() => ctx.refreshFlights.delete(key));
  ctx.refreshFlights.set(key, promise);
  return promise;
}

/** Whether `row` needs a refresh now under `opts` (see {@link RefreshOptions.minValidityMs}). */
export function needsRefresh(
  row: TokenRow,
  now: number,
  s: TokenLifecycleSettings,
  minValidityMs: number | undefined,
): boolean {
  const expires = row.accessTokenExpiresAt?.getTime();
  if (expires === undefined) return true;
  const lifetime = expires - row.tokensObtainedAt.getTime();
  if (minValidityMs !== undefined) {
    return expires - now <= Math.min(minValidityMs, Math.max(0, lifetime / 2));
  }
  // Scheduled: due at nextRefreshAt (a little early is fine: timers and clocks drift), and in any case once inside
  // the lead, should nextRefreshAt be missing or wrong.
  const due = row.nextRefreshAt?.getTime() ?? expires - refreshLeadMs(lifetime, s);
  return now >= due - 1_000 || expires - now <= refreshLeadMs(lifetime, s) * (1 - s.jitterShare);
}

async function doRefresh(ctx: AccountsContext, accountId: string, opts: RefreshOptions): Promise<RefreshResult> {
  const s = ctx.settings;
  let row = await readTokenRow(ctx, accountId);
  if (!row) return { outcome: 'not_found', account: null };
  if (row.status !== 'ACTIVE') return { outcome: 'inactive', account: row };
  if (!opts.force && !needsRefresh(row, ctx.now(), s, opts.minValidityMs)) return { outcome: 'not_due', account: row };
  if (!opts.force && opts.minValidityMs === undefined) {
    // A scheduled run for an account that has gone idle since its last refresh: no TikTok call, just the later date.
    const idle = await deferIdleRefresh(ctx, row);
    if (idle) return { outcome: 'not_due', account: idle };
  }

  const seenVersion = row.tokenVersion;
  const lockKey = refreshLockKey(ctx.queuePrefix, accountId);
  // Waiting for another holder is real time (its TikTok call takes what it takes), whatever the service's clock says.
  const deadline = Date.now() + s.lockWaitMs;
  let lock: RedisLock | null = null;
  for (;;) {
    lock = await tryLock(ctx.redis, lockKey, s.lockTtlMs);
    if (lock) break;
    // Someone else is refreshing this account: wait for their result rather than spend the refresh token twice.
    if (Date.now() >= deadline || opts.signal?.aborted) {
      const retryAt = new Date(ctx.now() + s.retryBaseMs);
      return { outcome: 'busy', account: row, retryAt };
    }
    await sleep(50);
    if ((await ctx.redis.exists(lockKey)) === 1) continue;
    const after = await readTokenRow(ctx, accountId);
    if (!after) return { outcome: 'not_found', account: null };
    if (after.tokenVersion !== seenVersion) {
      return { outcome: after.status === 'ACTIVE' ? 'refreshed_elsewhere' : 'inactive', account: after };
    }
    // Released without a new version: the holder failed. Take our own turn (the loop tries the lock again).
  }

  // The lock outlives the bounded TikTok call, but not necessarily the write of the rotated tokens, which is retried
  // for as long as the database needs (row locks, pool waits). Lapsing meanwhile would let another process spend the
  // refresh token this holder has already rotated, so the lock is extended while held (a dead holder's still lapses).
  const held = lock;
  const heartbeat = setInterval(
    () => void held.extend(s.lockTtlMs).catch(() => false),
    Math.max(10, Math.floor(s.lockTtlMs / 3)),
  );
  heartbeat.unref();
  try {
    row = await readTokenRow(ctx, accountId);
    if (!row) return { outcome: 'not_found', account: null };
    if (row.status !== 'ACTIVE') return { outcome: 'inactive', account: row };
    if (row.tokenVersion !== seenVersion && !needsRefresh(row, ctx.now(), s, opts.minValidityMs)) {
      return { outcome: 'refreshed_elsewhere', account: row };
    }
    if (!opts.force && !needsRefresh(row, ctx.now(), s, opts.minValidityMs)) {
      return { outcome: 'not_due', account: row };
    }
    return await refreshUnderLock(ctx, row, opts);
  } finally {
    clearInterval(heartbeat);
    await lock.release();
  }
}

/**
 * When the row's refresh is due under the in-use policy but the account is idle now (not asked for within the active
 * window) and its refresh chain does not need keeping alive yet, moves `next_refresh_at` to the idle policy's time
 * (fenced on the token version) and returns the row as written; null when the refresh should go ahead.
 */
async function deferIdleRefresh(ctx: AccountsContext, row: TokenRow): Promise<TokenRow | null> {
  const now = ctx.now();
  if (row.refreshFailureCount > 0 || !row.accessTokenExpiresAt) return null;
  if (isActiveAccount(row.accessRequestedAt, now, ctx.settings)) return null;
  const { at } = policyNextRefreshAt(
    {
      tokensObtainedAt: row.tokensObtainedAt,
      accessTokenExpiresAt: row.accessTokenExpiresAt,
      refreshTokenExpiresAt: row.refreshTokenExpiresAt,
      accessRequestedAt: row.accessRequestedAt,
    },
    now,
    ctx.settings,
  );
  if (at.getTime() <= now + 1_000) return null;
  const moved = await ctx.prisma.$executeRaw`
    UPDATE social_accounts SET next_refresh_at = ${at}, updated_at = ${new Date(now)}
    WHERE id = ${row.id}::uuid AND token_version = ${row.tokenVersion} AND status = 'ACTIVE'::"account_status"`;
  return moved > 0 ? { ...row, nextRefreshAt: at } : null;
}

async function refreshUnderLock(ctx: AccountsContext, row: TokenRow, opts: RefreshOptions): Promise<RefreshResult> {
  if (!ctx.tiktok) {
    throw new AccountError(
      AccountErrorCode.TIKTOK_CLIENT_MISSING,
      'Refreshing needs a TikTok client in AccountsOptions',
    );
  }
  const s = ctx.settings;
  let refreshToken: string;
  try {
    if (!row.refreshTokenCiphertext) throw new Error('no refresh token stored');
    refreshToken = decryptAccountToken(ctx.keyring, row.refreshTokenCiphertext, row);
  } catch (error) {
    // A missing key (keyring rotated too early) is an operator's fix, not the user's: keep the account, keep trying.
    return recordFailure(ctx, row, error, opts);
  }

  if (opts.signal?.aborted) return { outcome: 'busy', account: row, retryAt: new Date(ctx.now() + s.retryBaseMs) };
  let tokens: TokenSet;
  try {
    tokens = await ctx.tiktok.refresh(refreshToken, {
      timeoutMs: Math.min(s.tiktokTimeoutMs, Math.floor(s.lockTtlMs / 3)),
    });
  } catch (error) {
    if (isTikTokError(error, TikTokErrorCode.INVALID_GRANT)) return markReauthRequired(ctx, row, error, opts);
    return recordFailure(ctx, row, error, opts);
  }

  const stored = await persistRefreshedTokens(ctx, row, tokens, opts);
  if (!stored) {
    // Under the lock this means a reconnect or disconnect wrote the row meanwhile; their tokens win.
    ctx.logger?.error(
      { accountId: row.id, tokenVersion: row.tokenVersion },
      'refresh lost a race: the row changed while TikTok answered; the refreshed tokens were NOT stored',
    );
    return { outcome: 'lost_race', account: await readTokenRow(ctx, row.id) };
  }
  if (opts.schedule !== false && stored.nextRefreshAt) {
    await ctx.refreshJobs.schedule({ id: stored.id, nextRefreshAt: stored.nextRefreshAt }).catch((err: unknown) =>
      // The reconciler restores the job from nextRefreshAt; the tokens are safe either way.
      ctx.logger?.warn({ error: loggedError(err), accountId: row.id }, 'could not reschedule the refresh job'),
    );
  }
  ctx.logger?.info(
    { accountId: row.id, reason: opts.reason, accessTokenExpiresAt: tokens.accessTokenExpiresAt },
    'tokens refreshed',
  );
  // TikTok answers: if it was down, the accounts backing off are promoted now (in the background, outage.ts).
  void ctx.outage.onSuccess();
  return { outcome: 'refreshed', account: stored };
}

/** The fenced write of rotated tokens, with its event, in one statement; null when the row moved on. */
async function persistRefreshedTokens(
  ctx: AccountsContext,
  row: TokenRow,
  tokens: TokenSet,
  opts: RefreshOptions,
): Promise<TokenRow | null> {
  const aad = tokenAad(row);
  const accessCiphertext = encryptToken(ctx.keyring, tokens.accessToken, aad);
  const refreshCiphertext = encryptToken(ctx.keyring, tokens.refreshToken, aad);
  // The client counts expiries from when it sent the request: that is when these tokens were obtained.
  const obtainedAt = new Date(tokens.accessTokenExpiresAt.getTime() - tokens.expiresIn * 1000);
  // The refresh policy: ahead of expiry while in use (an on-demand refresh is a use), else only to keep it alive.
  const { at: nextRefreshAt, active } = policyNextRefreshAt(
    {
      tokensObtainedAt: obtainedAt,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
      accessRequestedAt: row.accessRequestedAt,
    },
    ctx.now(),
    ctx.settings,
    { active: opts.reason === 'on-demand' },
  );
  const scopes = tokens.scopes.length > 0 ? tokens.scopes : row.scopes;
  const recovered =
    row.refreshFailureCount > 0 && row.accessTokenExpiresAt !== null && row.accessTokenExpiresAt.getTime() <= ctx.now();
  const set = Prisma.sql`
    access_token_ciphertext = ${accessCiphertext},
    refresh_token_ciphertext = ${refreshCiphertext},
    access_token_expires_at = ${tokens.accessTokenExpiresAt},
    refresh_token_expires_at = ${tokens.refreshTokenExpiresAt},
    tokens_obtained_at = ${obtainedAt},
    scopes = ${scopes}::text[],
    token_version = token_version + 1,
    next_refresh_at = ${nextRefreshAt},
    last_refreshed_at = ${new Date(ctx.now())},
    refresh_failure_count = 0,
    last_error = NULL,
    last_error_at = NULL`;
  const event = {
    type: 'REFRESHED',
    message: 'Tokens refreshed',
    data: {
      reason: opts.reason,
      tokenVersion: row.tokenVersion + 1,
      expiresIn: tokens.expiresIn,
      refreshExpiresIn: tokens.refreshExpiresIn,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
      nextRefreshAt: nextRefreshAt.toISOString(),
      policy: active ? 'in-use' : 'idle',
      previousFailures: row.refreshFailureCount,
      // Refreshing works again after the access token had expired while refreshes failed: `account.recovered`.
      ...(recovered ? { recovered: true } : {}),
    },
  } as const;

  // The new refresh token exists only in memory until this commits: retry database errors before giving up.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await writeFenced(ctx, row, set, event);
    } catch (error) {
      lastError = error;
      ctx.logger?.error({ err: error, accountId: row.id, attempt }, 'storing refreshed tokens failed; retrying');
      await sleep(200 * 2 ** attempt);
    }
  }
  throw lastError;
}

function describeError(error: unknown): { code: string; message: string; status?: number; logId?: string } {
  if (isTikTokError(error)) {
    return {
      code: error.code,
      message: error.message,
      ...(error.status !== undefined ? { status: error.status } : {}),
      ...(error.logId !== undefined ? { logId: error.logId } : {}),
    };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : error.name, message: error.message };
  }
  return { code: 'UNKNOWN', message: 'unknown error' };
}

async function markReauthRequired(
  ctx: AccountsContext,
  row: TokenRow,
  error: TikTokError,
  opts: RefreshOptions,
): Promise<RefreshResult> {
  const d = describeError(error);
  const lastError = `${d.code}: TikTok refused the refresh token; the user has to connect the account again`;
  const account = await writeFenced(
    ctx,
    row,
    Prisma.sql`
      status = 'REAUTH_REQUIRED'::"account_status",
      access_token_ciphertext = NULL,
      refresh_token_ciphertext = NULL,
      token_version = token_version + 1,
      next_refresh_at = NULL,
      refresh_failure_count = refresh_failure_count + 1,
      last_error = ${lastError},
      last_error_at = ${new Date(ctx.now())}`,
    {
      type: 'REAUTH_REQUIRED',
      message: 'TikTok refused the refresh token (invalid_grant)',
      data: { ...d, reason: opts.reason, previousError: row.lastError },
    },
  );
  if (!account) return movedOn(ctx, row.id);
  ctx.logger?.warn({ accountId: row.id, logId: d.logId }, 'refresh token refused: account needs re-authorization');
  return { outcome: 'reauth_required', account, error };
}

/** A fenced write found the row changed: someone else wrote newer tokens meanwhile (possible only after a lock expiry). */
async function movedOn(ctx: AccountsContext, accountId: string): Promise<RefreshResult> {
  const account = await readTokenRow(ctx, accountId);
  return { outcome: account?.status === 'ACTIVE' ? 'refreshed_elsewhere' : 'inactive', account };
}

async function recordFailure(
  ctx: AccountsContext,
  row: TokenRow,
  error: unknown,
  opts: RefreshOptions,
): Promise<RefreshResult> {
  const d = describeError(error);
  const retryAfter = isTikTokError(error) ? error.retryAfterSeconds : undefined;
  // During a TikTok outage one failing refresh per interval is the breaker's probe, retried sooner (outage.ts).
  const probeDelayMs = await ctx.outage.onFailure(error, retryAfter);
  const now = ctx.now();
  const failures = row.refreshFailureCount + 1;
  const backoffMs = retryDelayMs(failures, ctx.settings, retryAfter);
  const retryAt = new Date(now + (probeDelayMs === null ? backoffMs : Math.min(probeDelayMs, backoffMs)));
  const expiresAt = row.accessTokenExpiresAt;
  const expired = expiresAt !== null && expiresAt.getTime() <= now;
  const lastError = expired
    ? `ACCESS_TOKEN_EXPIRED: refresh failing since the access token expired at ${expiresAt.toISOString()} (${failures} failures); last: ${d.code}: ${d.message}`
    : `${d.code}: ${d.message}`;
  const account = await writeFenced(
    ctx,
    row,
    Prisma.sql`
      refresh_failure_count = refresh_failure_count + 1,
      last_error = ${lastError.slice(0, 1000)},
      last_error_at = ${new Date(now)},
      next_refresh_at = ${retryAt}`,
    {
      type: 'REFRESH_FAILED',
      message: `Refresh failed: ${d.code}`,
      data: { ...d, reason: opts.reason, failures, retryAt: retryAt.toISOString(), accessTokenExpired: expired },
    },
  );
  if (!account) return movedOn(ctx, row.id);
  ctx.logger?.warn(
    { accountId: row.id, code: d.code, failures, retryAt, accessTokenExpired: expired },
    'token refresh failed; will retry',
  );
  if (opts.schedule !== false) {
    await ctx.refreshJobs
      .schedule({ id: row.id, nextRefreshAt: retryAt })
      .catch((err: unknown) =>
        ctx.logger?.warn({ error: loggedError(err), accountId: row.id }, 'could not reschedule the refresh job'),
      );
  }
  return { outcome: 'failed', account, error, retryAt };
}

/**
 * Records a REFRESH_TOKEN_EXPIRING event when the account's refresh token expires within
 * `refreshTokenWarningSeconds`, once per refresh token (keyed on `tokenVersion`, which every token write bumps).
 * TikTok's refresh tokens eventually expire for good; the user then has to connect again, and this is the warning.
 */
export async function flagExpiringRefreshToken(ctx: AccountsContext, accountId: string): Promise<boolean> {
  const now = new Date(ctx.now());
  const inserted = await ctx.prisma.$executeRaw`
    INSERT INTO account_events (account_id, type, message, data, created_at)
    SELECT a.id, 'REFRESH_TOKEN_EXPIRING'::"account_event_type",
      'The refresh token expires soon: the user will have to connect the account again',
      jsonb_build_object('tokenVersion', a.token_version, 'refreshTokenExpiresAt', a.refresh_token_expires_at),
      ${now}
    FROM social_accounts a
    WHERE a.id = ${accountId}::uuid
      AND a.status = 'ACTIVE'::"account_status"
      AND a.refresh_token_expires_at < ${now}::timestamptz + make_interval(secs => ${ctx.settings.refreshTokenWarningSeconds})
      AND NOT EXISTS (
        SELECT 1 FROM account_events e
        WHERE e.account_id = a.id AND e.type = 'REFRESH_TOKEN_EXPIRING'::"account_event_type"
          AND (e.data->>'tokenVersion')::int = a.token_version
      )`;
  return inserted > 0;
}

/**
 * Records that the account's access token was asked for, which makes it "in use" for the refresh policy. Costs
 * nothing in the common case: the row just read says when it was last recorded, and only a time older than
 * `accessTouchMs` is written again (one conditional UPDATE, at most once per account per interval). When the account
 * was idle, its next refresh moves back to ahead of expiry (the row and the job), so the next callers find a valid
 * token without waiting for an on-demand refresh. Failures are logged, never the caller's problem.
 */
export async function noteAccessRequested(
  ctx: AccountsContext,
  row: TokenRow,
  opts: { reschedule?: boolean } = {},
): Promise<void> {
  const s = ctx.settings;
  const now = ctx.now();
  const last = row.accessRequestedAt?.getTime();
  if (last !== undefined && now - last < Math.min(s.accessTouchMs, s.activeWindowMs / 4)) return;
  try {
    const wasActive = isActiveAccount(row.accessRequestedAt, now, s);
    const ahead =
      opts.reschedule !== false && !wasActive && row.refreshFailureCount === 0 && row.accessTokenExpiresAt
        ? computeNextRefreshAt({ obtainedAt: row.tokensObtainedAt, accessTokenExpiresAt: row.accessTokenExpiresAt }, s)
        : null;
    const moveTo = ahead && row.nextRefreshAt && row.nextRefreshAt.getTime() > ahead.getTime() ? ahead : null;
    const at = new Date(now);
    const staleBefore = new Date(now - s.accessTouchMs);
    const written = moveTo
      ? await ctx.prisma.$executeRaw`
          UPDATE social_accounts SET access_requested_at = ${at}, next_refresh_at = ${moveTo}, updated_at = ${at}
          WHERE id = ${row.id}::uuid AND token_version = ${row.tokenVersion}
            AND (access_requested_at IS NULL OR access_requested_at < ${staleBefore})`
      : await ctx.prisma.$executeRaw`
          UPDATE social_accounts SET access_requested_at = ${at}
          WHERE id = ${row.id}::uuid AND (access_requested_at IS NULL OR access_requested_at < ${staleBefore})`;
    if (written > 0 && moveTo) await ctx.refreshJobs.schedule({ id: row.id, nextRefreshAt: moveTo });
  } catch (err) {
    ctx.logger?.warn({ err, accountId: row.id }, 'could not record the access-token request');
  }
}

/** A valid access token for an upstream app. */
export interface FreshAccessToken {
  accessToken: string;
  expiresAt: Date;
  openId: string;
  scopes: string[];
  /** True when this request's refresh (or one it waited for) produced the token. */
  refreshed: boolean;
}

/**
 * A valid access token for the account, refreshed first when it expires within `minValidityMs` (default
 * `minValiditySeconds`, capped at half the token's lifetime), sharing the one-at-a-time refresh with the worker.
 * When the refresh fails but the current token has not expired yet, the current token is returned.
 *
 * @throws {AccountError} `ACCOUNT_INVALID_ID`, `ACCOUNT_NOT_FOUND`, `ACCOUNT_REAUTH_REQUIRED`, `ACCOUNT_DISCONNECTED`,
 *   `ACCOUNT_REFRESH_UNAVAILABLE` (expired and TikTok unreachable; retry later).
 */
export async function getFreshAccessToken(
  ctx: AccountsContext,
  accountId: string,
  opts: { minValidityMs?: number } = {},
): Promise<FreshAccessToken> {
  assertAccountId(accountId);
  const minValidityMs = opts.minValidityMs ?? ctx.settings.minValiditySeconds * 1000;
  const result = await refreshAccount(ctx, accountId, { reason: 'on-demand', minValidityMs });
  const row = result.account;
  if (!row) throw new AccountError(AccountErrorCode.NOT_FOUND, 'Account not found');
  if (row.status === 'REAUTH_REQUIRED') {
    throw new AccountError(AccountErrorCode.REAUTH_REQUIRED, 'The account needs to be connected again');
  }
  if (row.status === 'DISCONNECTED') {
    throw new AccountError(AccountErrorCode.DISCONNECTED, 'The account is disconnected');
  }
  const expiresAt = row.accessTokenExpiresAt;
  if (!row.accessTokenCiphertext || !expiresAt || expiresAt.getTime() <= ctx.now()) {
    throw new AccountError(
      AccountErrorCode.REFRESH_UNAVAILABLE,
      'The access token has expired and TikTok could not refresh it right now; retry later',
      { cause: result.error },
    );
  }
  const accessToken = decryptAccountToken(ctx.keyring, row.accessTokenCiphertext, row);
  // Just refreshed on demand: already scheduled as in use.
  await noteAccessRequested(ctx, row, { reschedule: result.outcome !== 'refreshed' });
  return {
    accessToken,
    expiresAt,
    openId: row.openId,
    scopes: row.scopes,
    refreshed: result.outcome === 'refreshed' || result.outcome === 'refreshed_elsewhere',
  };
}
