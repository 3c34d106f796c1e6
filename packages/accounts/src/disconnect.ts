import type { AccountsDeps } from './deps.js';
import { AccountError, AccountErrorCode } from './errors.js';
import { type AccountSummary, accountSummarySelect, assertAccountId } from './summary.js';

export type DisconnectActor = 'user' | 'admin' | 'system';

interface LockedRow {
  user_id: string;
  status: string;
}

/**
 * Disconnects an account: wipes both token ciphertexts in one write, status `DISCONNECTED`, `disconnectedAt`, and a
 * `DISCONNECTED` event with `data: { actor, reason }`.
 *
 * When `userId` is given the account must belong to that user, else `ACCOUNT_NOT_FOUND`: the answer for another
 * user's account is the same as for a missing one. Idempotent: disconnecting a disconnected account returns it
 * unchanged and records nothing. `tokenVersion` is bumped so that a refresh in flight cannot write tokens back.
 */
export async function disconnectAccount(
  deps: AccountsDeps,
  p: { accountId: string; userId?: string; actor: DisconnectActor; reason?: string },
): Promise<AccountSummary> {
  assertAccountId(p.accountId);
  const { summary, changed } = await deps.prisma.$transaction(async (tx) => {
    // Lock first: a concurrent connection or refresh of this account waits for the disconnect, then sees it.
    const [row] = await tx.$queryRaw<LockedRow[]>`
      SELECT user_id, status::text AS status FROM social_accounts WHERE id = ${p.accountId}::uuid FOR UPDATE`;
    if (!row || (p.userId !== undefined && row.user_id !== p.userId)) {
      throw new AccountError(AccountErrorCode.NOT_FOUND, 'Account not found');
    }
    let changed = false;
    if (row.status !== 'DISCONNECTED') {
      await tx.socialAccount.update({
        where: { id: p.accountId },
        data: {
          status: 'DISCONNECTED',
          accessTokenCiphertext: null,
          refreshTokenCiphertext: null,
          tokenVersion: { increment: 1 },
          nextRefreshAt: null,
          disconnectedAt: new Date(),
        },
      });
      await tx.accountEvent.create({
        data: {
          accountId: p.accountId,
          type: 'DISCONNECTED',
          message: `Disconnected by ${p.actor}`,
          data: { actor: p.actor, reason: p.reason ?? null },
        },
      });
      changed = true;
    }
    const summary = await tx.socialAccount.findUniqueOrThrow({
      where: { id: p.accountId },
      select: accountSummarySelect,
    });
    return { summary, changed };
  });
  if (changed) {
    deps.logger?.info({ accountId: p.accountId, actor: p.actor }, 'account disconnected');
  }
  return summary;
}
