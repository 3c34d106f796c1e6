import { loggedError } from '@ttc/config';
import { Prisma } from '@ttc/db';
import { type AccountRevokePayload, enqueueAccountRevoke } from '@ttc/queue';
import { accountEventOutbox } from '@ttc/webhooks';
import type { AccountsContext } from './deps.js';
import { AccountError, AccountErrorCode } from './errors.js';
import { type AccountSummary, accountSummarySelect, assertAccountId } from './summary.js';

/**
 * Who disconnected: the user on the connect page, the upstream app through its API, an operator, or the service
 * itself. Sent as `data.actor` of the `account.disconnected` webhook.
 */
export type DisconnectActor = 'user' | 'upstream' | 'admin' | 'system';

interface LockedRow {
  user_id: string;
  open_id: string;
  status: string;
  token_version: number;
  access_token_ciphertext: string | null;
}

/**
 * Disconnects an account — the one service behind the connect page's and the admin API's disconnect:
 *
 * 1. in one transaction: both token ciphertexts wiped, status `DISCONNECTED`, `disconnectedAt`, `tokenVersion` bumped
 *    (a refresh in flight can then no longer write tokens back), a `DISCONNECTED` event (`data: { actor, reason, apiKey? }`);
 * 2. the revoke at TikTok is enqueued (`account.revoke`, retried until done) with the access token's ciphertext,
 *    BEFORE that transaction commits: if Redis is down the disconnect fails whole and can be retried, rather than
 *    committing with the token gone and no revoke. Should the commit fail after the enqueue, the revoke job finds
 *    the row unchanged (version mismatch) and skips;
 *    — unless another ACTIVE row (another upstream user) holds the same TikTok account: TikTok's revoke would cut
 *    that user off too, so no revoke, and a `REVOKE_SKIPPED` event says why (also when there is no token to revoke);
 *    The `account.disconnected` webhook (`data.actor`, `data.reason`) is recorded in the same transaction and
 *    enqueued after the commit;
 * 3. after the commit, the refresh job is removed (a running one ends itself on seeing the account disconnected).
 *
 * When `userId` is given the account must belong to that user, else `ACCOUNT_NOT_FOUND`: the answer for another
 * user's account is the same as for a missing one. Idempotent: disconnecting a disconnected account returns it
 * unchanged and records nothing.
 */
export async function disconnectAccount(
  ctx: AccountsContext,
  p: { accountId: string; userId?: string; actor: DisconnectActor; reason?: string; apiKey?: string | null },
): Promise<AccountSummary> {
  assertAccountId(p.accountId);
  const { summary, changed, revoke, webhookDeliveryIds } = await ctx.prisma.$transaction(async (tx) => {
    // Lock first: a concurrent connection or refresh of this account waits for the disconnect, then sees it.
    const [row] = await tx.$queryRaw<LockedRow[]>`
      SELECT user_id, open_id, status::text AS status, token_version, access_token_ciphertext
      FROM social_accounts WHERE id = ${p.accountId}::uuid FOR UPDATE`;
    if (!row || (p.userId !== undefined && row.user_id !== p.userId)) {
      throw new AccountError(AccountErrorCode.NOT_FOUND, 'Account not found');
    }
    let changed = false;
    let revoke: 'enqueued' | 'skipped' | null = null;
    let webhookDeliveryIds: string[] = [];
    if (row.status !== 'DISCONNECTED') {
      const tokenVersion = row.token_version + 1;
      await tx.socialAccount.update({
        where: { id: p.accountId },
        data: {
          status: 'DISCONNECTED',
          accessTokenCiphertext: null,
          refreshTokenCiphertext: null,
          tokenVersion,
          nextRefreshAt: null,
          disconnectedAt: new Date(ctx.now()),
        },
      });
      await tx.accountEvent.create({
        data: {
          createdAt: new Date(ctx.now()),
          accountId: p.accountId,
          type: 'DISCONNECTED',
          message: `Disconnected by ${p.actor}`,
          // Which gateway API key acted, by name: the keys share one trust domain, this says which app it was.
          data: { actor: p.actor, reason: p.reason ?? null, ...(p.apiKey ? { apiKey: p.apiKey } : {}) },
        },
      });
      if (ctx.outbox.endpoints.length > 0) {
        const data = JSON.stringify({ actor: p.actor, reason: p.reason ?? null });
        const outbox = accountEventOutbox(
          ctx.outbox.endpoints,
          {
            events: Prisma.sql`(SELECT ${p.accountId}::uuid AS account_id, 'DISCONNECTED'::text AS type, ${data}::jsonb AS data)`,
            accounts: Prisma.sql`(SELECT * FROM social_accounts WHERE id = ${p.accountId}::uuid)`,
          },
          new Date(ctx.now()),
        );
        const [recorded] = await tx.$queryRaw<{ ids: string[] }[]>`
          WITH disconnected AS (SELECT 1) ${outbox.ctes} SELECT ${outbox.deliveryIds} AS ids`;
        webhookDeliveryIds = recorded?.ids ?? [];
      }
      const sharedWith = await tx.socialAccount.count({
        where: { openId: row.open_id, platform: 'TIKTOK', status: 'ACTIVE', id: { not: p.accountId } },
      });
      const skipReason =
        sharedWith > 0
          ? 'another active connection holds the same TikTok account; revoking would cut it off too'
          : row.access_token_ciphertext === null
            ? 'no access token to revoke (the account needed re-authorization)'
            : null;
      if (skipReason !== null || row.access_token_ciphertext === null) {
        await tx.accountEvent.create({
          data: {
            createdAt: new Date(ctx.now()),
            accountId: p.accountId,
            type: 'REVOKE_SKIPPED',
            message: `Not revoked at TikTok: ${skipReason}`,
            data: { reason: sharedWith > 0 ? 'shared_open_id' : 'no_token', otherActiveConnections: sharedWith },
          },
        });
        revoke = 'skipped';
      } else {
        const payload: AccountRevokePayload = {
          accountId: p.accountId,
          userId: row.user_id,
          openId: row.open_id,
          accessTokenCiphertext: row.access_token_ciphertext,
          tokenVersion,
        };
        await enqueueAccountRevoke(ctx.queues, payload, tokenVersion);
        revoke = 'enqueued';
      }
      changed = true;
    }
    const summary = await tx.socialAccount.findUniqueOrThrow({
      where: { id: p.accountId },
      select: accountSummarySelect,
    });
    return { summary, changed, revoke, webhookDeliveryIds };
  });
  await ctx.outbox.enqueue(webhookDeliveryIds);
  if (changed) {
    await ctx.refreshJobs.cancel(p.accountId).catch((err: unknown) =>
      // A job left behind ends itself when it runs and finds the account disconnected.
      ctx.logger?.warn({ error: loggedError(err), accountId: p.accountId }, 'could not remove the refresh job'),
    );
    ctx.logger?.info({ accountId: p.accountId, actor: p.actor, revoke }, 'account disconnected');
  }
  return summary;
}
