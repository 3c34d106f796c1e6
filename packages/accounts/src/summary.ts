import type { AccountsContext } from './deps.js';
import { AccountError, AccountErrorCode } from './errors.js';
import { isUuid } from './uuid.js';

export type AccountStatus = 'ACTIVE' | 'REAUTH_REQUIRED' | 'DISCONNECTED';

/** Public view of an account: never any token or ciphertext. Safe to return from APIs and to log. */
export interface AccountSummary {
  id: string;
  userId: string;
  openId: string;
  unionId: string | null;
  displayName: string;
  username: string | null;
  avatarUrl: string | null;
  scopes: string[];
  status: AccountStatus;
  accessTokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  nextRefreshAt: Date | null;
  lastRefreshedAt: Date | null;
  lastError: string | null;
  connectedAt: Date;
  disconnectedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The only columns a summary reads. An allow-list, not a deny-list: a token column added to the table later stays
 * out of every summary unless someone adds it here on purpose.
 */
export const accountSummarySelect = {
  id: true,
  userId: true,
  openId: true,
  unionId: true,
  displayName: true,
  username: true,
  avatarUrl: true,
  scopes: true,
  status: true,
  accessTokenExpiresAt: true,
  refreshTokenExpiresAt: true,
  nextRefreshAt: true,
  lastRefreshedAt: true,
  lastError: true,
  connectedAt: true,
  disconnectedAt: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Record<keyof AccountSummary, true>;

/** Throws `ACCOUNT_INVALID_ID` for an id that cannot be an account id (the column is a UUID). */
export function assertAccountId(accountId: string): void {
  if (!isUuid(accountId)) {
    throw new AccountError(AccountErrorCode.INVALID_ID, 'Account id must be a UUID');
  }
}

/** How a user's accounts are filtered: by one status, or all but the disconnected ones unless asked for. */
export interface ListUserAccountsOptions {
  includeDisconnected?: boolean;
  /** Only accounts in this status (overrides `includeDisconnected`). */
  status?: AccountStatus;
}

/**
 * A user's accounts, newest first. Disconnected accounts are left out unless asked for; accounts waiting for
 * re-authorization are always listed, since the user has to act on them. `status` lists one status only.
 */
export async function listUserAccounts(
  { prisma }: Pick<AccountsContext, 'prisma'>,
  userId: string,
  opts: ListUserAccountsOptions = {},
): Promise<AccountSummary[]> {
  const status =
    opts.status !== undefined
      ? { status: opts.status }
      : opts.includeDisconnected
        ? {}
        : { status: { not: 'DISCONNECTED' as const } };
  return prisma.socialAccount.findMany({
    where: { userId, ...status },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    select: accountSummarySelect,
  });
}

/** One account by id, or null. Throws `ACCOUNT_INVALID_ID` for a malformed id. */
export async function getAccount(
  { prisma }: Pick<AccountsContext, 'prisma'>,
  accountId: string,
): Promise<AccountSummary | null> {
  assertAccountId(accountId);
  return prisma.socialAccount.findUnique({ where: { id: accountId }, select: accountSummarySelect });
}
