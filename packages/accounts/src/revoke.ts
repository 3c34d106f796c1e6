import { decryptToken } from '@ttc/crypto';
import { type AccountRevokePayload, accountRevokePayload } from '@ttc/queue';
import { isPermanentTikTokError } from '@ttc/tiktok';
import { type Job, UnrecoverableError } from 'bullmq';
import { tokenAad } from './aad.js';
import { describePayloadIssues } from './connect.js';
import type { AccountsDeps } from './deps.js';
import { AccountError, AccountErrorCode } from './errors.js';

export type RevokeOutcome = 'revoked' | 'skipped';

interface RevokeRow {
  status: string;
  token_version: number;
}

async function recordEvent(
  deps: AccountsDeps,
  accountId: string,
  type: 'REVOKED' | 'REVOKE_SKIPPED',
  message: string,
  data: Record<string, unknown>,
): Promise<void> {
  // At-least-once jobs: one event per (type, token version), whatever the number of runs.
  await deps.prisma.$executeRaw`
    INSERT INTO account_events (account_id, type, message, data, created_at)
    SELECT a.id, ${type}::"account_event_type", ${message}, ${JSON.stringify(data)}::jsonb, now()
    FROM social_accounts a
    WHERE a.id = ${accountId}::uuid
      AND NOT EXISTS (
        SELECT 1 FROM account_events e
        WHERE e.account_id = a.id AND e.type = ${type}::"account_event_type"
          AND e.data->>'tokenVersion' IS NOT DISTINCT FROM ${data.tokenVersion === undefined ? null : String(data.tokenVersion)}
      )`;
}

/**
 * Revokes a disconnected account's access token at TikTok. Skipped (with a REVOKE_SKIPPED event) when the row has
 * moved on since the disconnect (reconnected, or the disconnect never committed) or when another ACTIVE row holds the
 * same TikTok account by now: TikTok's revoke cuts the app off from that TikTok user entirely. TikTok errors are
 * thrown: transient ones for the queue to retry (about 30 times over days), permanent ones end the job.
 */
export async function revokeAccountToken(deps: AccountsDeps, payload: AccountRevokePayload): Promise<RevokeOutcome> {
  if (!deps.tiktok) {
    throw new AccountError(AccountErrorCode.TIKTOK_CLIENT_MISSING, 'Revoking needs a TikTok client in AccountsDeps');
  }
  // FOR SHARE: the disconnect enqueues this job before its transaction commits and holds the row lock until then;
  // waiting on that lock means we read the committed outcome (disconnected, or rolled back and still ACTIVE).
  const [row] = await deps.prisma.$queryRaw<RevokeRow[]>`
    SELECT status::text AS status, token_version FROM social_accounts WHERE id = ${payload.accountId}::uuid FOR SHARE`;
  const version = payload.tokenVersion;
  if (row && (row.status !== 'DISCONNECTED' || (version !== undefined && row.token_version !== version))) {
    await recordEvent(
      deps,
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
  const shared = await deps.prisma.socialAccount.count({
    where: { openId: payload.openId, platform: 'TIKTOK', status: 'ACTIVE', id: { not: payload.accountId } },
  });
  if (shared > 0) {
    await recordEvent(
      deps,
      payload.accountId,
      'REVOKE_SKIPPED',
      'Not revoked at TikTok: another active connection holds the same TikTok account',
      { reason: 'shared_open_id', otherActiveConnections: shared, tokenVersion: version },
    );
    return 'skipped';
  }
  const accessToken = decryptToken(deps.keyring, payload.accessTokenCiphertext, tokenAad(payload));
  await deps.tiktok.revoke(accessToken);
  if (row) {
    await recordEvent(deps, payload.accountId, 'REVOKED', 'Access revoked at TikTok', { tokenVersion: version });
  }
  deps.logger?.info({ accountId: payload.accountId }, 'access revoked at TikTok');
  return 'revoked';
}

/**
 * BullMQ processor for `account.revoke`: parses the payload (malformed → `UnrecoverableError`) and revokes.
 * A permanent TikTok error (the token is unknown to TikTok in a way it reports as an error, or the app's
 * credentials are wrong) ends the job with `UnrecoverableError`; transient ones are thrown for BullMQ's retries.
 */
export function createAccountRevokeProcessor(deps: AccountsDeps): (job: Job) => Promise<RevokeOutcome> {
  return async (job: Job) => {
    const parsed = accountRevokePayload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(describePayloadIssues(parsed.error.issues, 'account.revoke'));
    try {
      return await revokeAccountToken(deps, parsed.data);
    } catch (error) {
      if (isPermanentTikTokError(error)) {
        await recordEvent(deps, parsed.data.accountId, 'REVOKE_SKIPPED', `TikTok refused the revoke: ${error.code}`, {
          reason: 'tiktok_refused',
          code: error.code,
          tokenVersion: parsed.data.tokenVersion,
        }).catch(() => undefined);
        throw new UnrecoverableError(`TikTok refused the revoke: ${error.code}`);
      }
      throw error;
    }
  };
}
