import type { AccountRevokePayload } from '@ttc/queue';
import { isPermanentTikTokError } from '@ttc/tiktok';
import { decryptAccountToken } from './aad.js';
import type { AccountsContext } from './deps.js';
import { AccountError, AccountErrorCode } from './errors.js';

/** `refused`: TikTok answered with a permanent error; recorded, and retrying cannot help. */
export type RevokeOutcome = 'revoked' | 'skipped' | 'refused';

interface RevokeRow {
  status: string;
  token_version: number;
}

async function recordEvent(
  ctx: AccountsContext,
  accountId: string,
  type: 'REVOKED' | 'REVOKE_SKIPPED',
  message: string,
  data: Record<string, unknown>,
): Promise<void> {
  // At-least-once jobs: one event per (type, token version), whatever the number of runs.
  await ctx.prisma.$executeRaw`
    INSERT INTO account_events (account_id, type, message, data, created_at)
    SELECT a.id, ${type}::"account_event_type", ${message}, ${JSON.stringify(data)}::jsonb, ${new Date(ctx.now())}
    FROM social_accounts a
    WHERE a.id = ${accountId}::uuid
      AND NOT EXISTS (
        SELECT 1 FROM account_events e
        WHERE e.account_id = a.id AND e.type = ${type}::"account_event_type"
          AND e.data->>'tokenVersion' IS NOT DISTINCT FROM ${data.tokenVersion === undefined ? null : String(data.tokenVersion)}
      )`;
}

/**
 * Revokes a disconnected (or erased: the row is gone, the job carries the ciphertext) account's access token at
 * TikTok. Skipped (with a REVOKE_SKIPPED event) when the row has
 * moved on since the disconnect (reconnected, or the disconnect never committed) or when another ACTIVE row holds the
 * same TikTok account by now: TikTok's revoke cuts the app off from that TikTok user entirely. A permanent TikTok
 * refusal is recorded (REVOKE_SKIPPED, `reason: tiktok_refused`) and reported as `refused`; transient TikTok errors are
 * thrown, for the queue to retry (about 30 times over days).
 */
export async function revokeAccountToken(
  ctx: AccountsContext,
  payload: AccountRevokePayload,
  options: { signal?: AbortSignal } = {},
): Promise<RevokeOutcome> {
  if (!ctx.tiktok) {
    throw new AccountError(AccountErrorCode.TIKTOK_CLIENT_MISSING, 'Revoking needs a TikTok client in AccountsOptions');
  }
  // FOR SHARE: the disconnect enqueues this job before its transaction commits and holds the row lock until then;
  // waiting on that lock means we read the committed outcome (disconnected, or rolled back and still ACTIVE).
  const [row] = await ctx.prisma.$queryRaw<RevokeRow[]>`
    SELECT status::text AS status, token_version FROM social_accounts WHERE id = ${payload.accountId}::uuid FOR SHARE`;
  const version = payload.tokenVersion;
  if (row && (row.status !== 'DISCONNECTED' || (version !== undefined && row.token_version !== version))) {
    await recordEvent(
      ctx,
      payload.accountId,
      'REVOKE_SKIPPED',
      'Not revoked at TikTok: the account was connected again',
      {
        reason: 'reconnected',
        tokenVersion: version,
      },
    );
    return 'skipped';
  }
  const shared = await ctx.prisma.socialAccount.count({
    where: { openId: payload.openId, platform: 'TIKTOK', status: 'ACTIVE', id: { not: payload.accountId } },
  });
  if (shared > 0) {
    await recordEvent(
      ctx,
      payload.accountId,
      'REVOKE_SKIPPED',
      'Not revoked at TikTok: another active connection holds the same TikTok account',
      { reason: 'shared_open_id', otherActiveConnections: shared, tokenVersion: version },
    );
    return 'skipped';
  }
  const accessToken = decryptAccountToken(ctx.keyring, payload.accessTokenCiphertext, payload);
  try {
    // A stop aborts the call (the worker's shutdown): a revoke is safe to repeat, the job runs again elsewhere.
    await ctx.tiktok.revoke(accessToken, options.signal ? { signal: options.signal } : undefined);
  } catch (error) {
    if (!isPermanentTikTokError(error)) throw error;
    if (!row) {
      // The account was erased: there is nothing to record the refusal on, and a failed job kept for operators
      // would keep the erased user's identifiers in Redis for weeks. Logged (ids only) and done.
      ctx.logger?.warn(
        { accountId: payload.accountId, code: error.code },
        'TikTok refused the revoke of an erased account',
      );
      return 'skipped';
    }
    await recordEvent(ctx, payload.accountId, 'REVOKE_SKIPPED', `TikTok refused the revoke: ${error.code}`, {
      reason: 'tiktok_refused',
      code: error.code,
      tokenVersion: version,
    });
    ctx.logger?.warn({ accountId: payload.accountId, code: error.code }, 'TikTok refused the revoke');
    return 'refused';
  }
  if (row) {
    await recordEvent(ctx, payload.accountId, 'REVOKED', 'Access revoked at TikTok', { tokenVersion: version });
  }
  ctx.logger?.info({ accountId: payload.accountId }, 'access revoked at TikTok');
  return 'revoked';
}
