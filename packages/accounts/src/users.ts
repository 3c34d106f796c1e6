import { loggedError } from '@ttc/config';
import { type AccountRevokePayload, enqueueAccountRevoke, eraseUserConnectSessions } from '@ttc/queue';
import type { AccountsContext } from './deps.js';
import { type AccountSummary, accountSummarySelect } from './summary.js';

/** What erasing a user removed. Holds no secret; the caller may tell others (a `user.erased` webhook). */
export interface UserErasure {
  userId: string;
  /** How many accounts (with all their events) were deleted. */
  erasedAccounts: number;
  /** Each deleted account, and whether its access was revoked at TikTok (a job) or not (with why). */
  accounts: {
    id: string;
    openId: string;
    revoke: 'enqueued' | 'skipped_shared_open_id' | 'skipped_no_token';
  }[];
  /** How many connect sessions (with their results) were deleted from Redis. */
  erasedConnectSessions: number;
}

/** One event of an account, as exported. */
export interface ExportedEvent {
  id: string;
  type: string;
  message: string | null;
  data: unknown;
  createdAt: Date;
}

/** Everything stored about a user's connections (data portability): accounts and their events, never a token. */
export interface UserExport {
  userId: string;
  exportedAt: Date;
  accounts: (AccountSummary & { events: ExportedEvent[] })[];
}

interface ErasedRow {
  id: string;
  open_id: string;
  token_version: number;
  access_token_ciphertext: string | null;
}

/**
 * Erases a user: every account and every event of theirs is deleted, in one transaction, and so are their connect
 * sessions (with their results) and refresh jobs in Redis.
 *
 * TikTok access is revoked where the disconnect would revoke it (same rule): an account holding a token, unless
 * another ACTIVE row (another upstream user) holds the same TikTok account. The revoke job carries the ciphertext
 * (the row is gone) and is enqueued before the deletion commits, like a disconnect's: if Redis is down the erasure
 * fails whole and can be retried. The revoke processor copes with the missing row (it revokes and records nothing).
 *
 * A `user.erased` webhook (`data: { userId, erasedAccounts }`) is recorded in the same transaction, replacing the user's
 * earlier webhook events; it is the one row that names the user afterwards, until it has been delivered.
 *
 * Idempotent: erasing an unknown (or already erased) user erases nothing and answers 0 (and says so by webhook).
 */
export async function eraseUser(ctx: AccountsContext, userId: string): Promise<UserErasure> {
  const { accounts, webhookDeliveryIds } = await ctx.prisma.$transaction(async (tx) => {
    // Lock first: a concurrent refresh or disconnect of these accounts waits, then finds nothing.
    const rows = await tx.$queryRaw<ErasedRow[]>`
      SELECT id::text AS id, open_id, token_version, access_token_ciphertext
      FROM social_accounts WHERE user_id = ${userId} ORDER BY id FOR UPDATE`;
    const erased: UserErasure['accounts'] = [];
    for (const row of rows) {
      const sharedWith = await tx.socialAccount.count({
        where: { openId: row.open_id, platform: 'TIKTOK', status: 'ACTIVE', userId: { not: userId } },
      });
      if (sharedWith > 0 || row.access_token_ciphertext === null) {
        erased.push({
          id: row.id,
          openId: row.open_id,
          revoke: sharedWith > 0 ? 'skipped_shared_open_id' : 'skipped_no_token',
        });
        continue;
      }
      const tokenVersion = row.token_version + 1;
      const payload: AccountRevokePayload = {
        accountId: row.id,
        userId,
        openId: row.open_id,
        accessTokenCiphertext: row.access_token_ciphertext,
        tokenVersion,
      };
      await enqueueAccountRevoke(ctx.queues, payload, tokenVersion);
      erased.push({ id: row.id, openId: row.open_id, revoke: 'enqueued' });
    }
    // Events go with their account (ON DELETE CASCADE).
    await tx.socialAccount.deleteMany({ where: { userId } });
    // The user's earlier webhook events go too; `user.erased` is recorded in their place, in the same transaction.
    const webhookDeliveryIds = await ctx.outbox.recordUserErased(tx, {
      userId,
      erasedAccounts: erased.length,
      at: new Date(ctx.now()),
    });
    return { accounts: erased, webhookDeliveryIds };
  });
  await ctx.outbox.enqueue(webhookDeliveryIds);
  for (const account of accounts) {
    await ctx.refreshJobs.cancel(account.id).catch((err: unknown) =>
      // A job left behind ends itself when it runs and finds no account.
      ctx.logger?.warn({ error: loggedError(err), accountId: account.id }, 'could not remove the refresh job'),
    );
  }
  const erasedConnectSessions = await eraseUserConnectSessions(ctx.redis, ctx.queuePrefix, userId);
  ctx.logger?.info(
    {
      erasedAccounts: accounts.length,
      erasedConnectSessions,
      revokes: accounts.filter((a) => a.revoke === 'enqueued').length,
    },
    'user erased',
  );
  return { userId, erasedAccounts: accounts.length, accounts, erasedConnectSessions };
}

/** Everything stored about a user's connections, oldest account first: accounts (allow-listed fields) and events. */
export async function exportUser(ctx: AccountsContext, userId: string): Promise<UserExport> {
  const accounts = await ctx.prisma.socialAccount.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: {
      ...accountSummarySelect,
      events: {
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: { id: true, type: true, message: true, data: true, createdAt: true },
      },
    },
  });
  return {
    userId,
    exportedAt: new Date(ctx.now()),
    accounts: accounts.map((a) => ({ ...a, events: a.events.map((e) => ({ ...e, id: e.id.toString() })) })),
  };
}
