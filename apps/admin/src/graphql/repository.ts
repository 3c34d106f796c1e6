import type { AccountStatus, AccountSummary } from '@ttc/accounts';
import { Prisma, type PrismaClient } from '@ttc/db';
import type { KeysetPosition } from './cursor.js';

export type { AccountStatus };
export const ACCOUNT_STATUSES: readonly AccountStatus[] = ['ACTIVE', 'REAUTH_REQUIRED', 'DISCONNECTED'];

/**
 * An account row as the API sees it: the shared summary (never a token) plus the operator-only columns.
 * No token or ciphertext column is ever selected (see ACCOUNT_COLUMNS).
 */
export interface AccountRow extends AccountSummary {
  platform: string;
  refreshFailureCount: number;
  lastErrorAt: Date | null;
}

export interface EventRow {
  id: string;
  accountId: string;
  type: string;
  message: string | null;
  data: unknown;
  createdAt: Date;
}

export interface AccountFilter {
  userId?: string | null;
  status?: AccountStatus | null;
  search?: string | null;
}

/**
 * The allow-list of columns the admin API reads. Written out rather than `SELECT *` so that the token ciphertexts,
 * and any secret column added later, never even leave the database for this process.
 */
const ACCOUNT_COLUMNS = Prisma.raw(`id::text AS "id", user_id AS "userId", platform::text AS "platform",
  open_id AS "openId", union_id AS "unionId", display_name AS "displayName", username AS "username",
  avatar_url AS "avatarUrl", scopes AS "scopes", status::text AS "status",
  access_token_expires_at AS "accessTokenExpiresAt", refresh_token_expires_at AS "refreshTokenExpiresAt",
  next_refresh_at AS "nextRefreshAt", last_refreshed_at AS "lastRefreshedAt",
  refresh_failure_count AS "refreshFailureCount", last_error AS "lastError", last_error_at AS "lastErrorAt",
  connected_at AS "connectedAt", disconnected_at AS "disconnectedAt", created_at AS "createdAt",
  updated_at AS "updatedAt"`);

const EVENT_COLUMNS = Prisma.raw(`e.id::text AS "id", e.account_id::text AS "accountId", e.type::text AS "type",
  e.message AS "message", e.data AS "data", e.created_at AS "createdAt"`);

/** `%`, `_` and `\` in a search term are literal characters, not patterns. */
function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function whereClause(filter: AccountFilter, after?: KeysetPosition): Prisma.Sql {
  const conditions: Prisma.Sql[] = [];
  if (filter.userId != null) conditions.push(Prisma.sql`user_id = ${filter.userId}`);
  if (filter.status != null) conditions.push(Prisma.sql`status = ${filter.status}::account_status`);
  const term = filter.search?.trim();
  if (term) {
    // ILIKE on the two names uses their trigram indexes; the open id is an exact identifier, so equality.
    const pattern = likePattern(term);
    conditions.push(Prisma.sql`(display_name ILIKE ${pattern} OR username ILIKE ${pattern} OR open_id = ${term})`);
  }
  if (after) {
    conditions.push(Prisma.sql`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
  }
  return conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
}

/** Reads accounts for the admin API with keyset pagination and batched lookups. */
export class AccountsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * `limit` rows in `(createdAt desc, id desc)` order after `after`. Ask for one more than the page to learn
   * hasNextPage. ORDER BY names the table's columns: a bare `id` would mean the `id::text` output column, sorting
   * text and keeping Postgres from walking an index.
   */
  page(filter: AccountFilter, limit: number, after?: KeysetPosition): Promise<AccountRow[]> {
    return this.prisma.$queryRaw<AccountRow[]>`
      SELECT ${ACCOUNT_COLUMNS} FROM social_accounts ${whereClause(filter, after)}
      ORDER BY social_accounts.created_at DESC, social_accounts.id DESC LIMIT ${limit}`;
  }

  async count(filter: AccountFilter): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM social_accounts ${whereClause(filter)}`;
    return row?.n ?? 0;
  }

  async countByStatus(filter: AccountFilter = {}): Promise<Map<AccountStatus, number>> {
    const rows = await this.prisma.$queryRaw<{ status: AccountStatus; n: number }[]>`
      SELECT status::text AS status, count(*)::int AS n FROM social_accounts ${whereClause(filter)} GROUP BY status`;
    const counts = new Map<AccountStatus, number>(ACCOUNT_STATUSES.map((s) => [s, 0]));
    for (const row of rows) counts.set(row.status, row.n);
    return counts;
  }

  async byId(id: string): Promise<AccountRow | null> {
    const [row] = await this.prisma.$queryRaw<AccountRow[]>`
      SELECT ${ACCOUNT_COLUMNS} FROM social_accounts WHERE id = ${id}::uuid`;
    return row ?? null;
  }

  /** Accounts for many ids in one query, in no particular order. */
  byIds(ids: readonly string[]): Promise<AccountRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.prisma.$queryRaw<AccountRow[]>`
      SELECT ${ACCOUNT_COLUMNS} FROM social_accounts WHERE id = ANY(${[...ids]}::uuid[])`;
  }

  /**
   * The newest `limit` events of each account, in one query for the whole page of accounts. A LATERAL subquery
   * with LIMIT walks the `(account_id, created_at desc, id desc)` index and stops after `limit` rows per account,
   * where `ROW_NUMBER() OVER (PARTITION BY …)` would read every event of every account first.
   */
  eventsForAccounts(accountIds: readonly string[], limit: number, after?: KeysetPosition): Promise<EventRow[]> {
    if (accountIds.length === 0) return Promise.resolve([]);
    const afterClause = after
      ? Prisma.sql`AND (e.created_at, e.id) < (${after.createdAt}::timestamptz, ${after.id}::bigint)`
      : Prisma.empty;
    return this.prisma.$queryRaw<EventRow[]>`
      SELECT ${EVENT_COLUMNS}
      FROM unnest(${[...accountIds]}::uuid[]) AS a(id)
      CROSS JOIN LATERAL (
        SELECT * FROM account_events e WHERE e.account_id = a.id ${afterClause}
        ORDER BY e.created_at DESC, e.id DESC LIMIT ${limit}
      ) e
      ORDER BY e.account_id, e.created_at DESC, e.id DESC`;
  }

  /** The newest events across all accounts (an activity feed), optionally of some types. */
  recentEvents(limit: number, types: readonly string[] | null, after?: KeysetPosition): Promise<EventRow[]> {
    const conditions: Prisma.Sql[] = [];
    if (types && types.length > 0) conditions.push(Prisma.sql`e.type::text = ANY(${[...types]}::text[])`);
    if (after) {
      conditions.push(Prisma.sql`(e.created_at, e.id) < (${after.createdAt}::timestamptz, ${after.id}::bigint)`);
    }
    const where = conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
    return this.prisma.$queryRaw<EventRow[]>`
      SELECT ${EVENT_COLUMNS} FROM account_events e ${where}
      ORDER BY e.created_at DESC, e.id DESC LIMIT ${limit}`;
  }
}
