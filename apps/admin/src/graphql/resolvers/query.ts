import { isUuid } from '@ttc/accounts';
import type { IResolvers } from 'mercurius';
import { adminError } from '../../errors.js';
import { decodeCursor, forwardPage, pageSize } from '../cursor.js';
import { eventConnection } from '../loaders.js';
import { ACCOUNT_STATUSES, type AccountFilter, type AccountRow } from '../repository.js';

export const ACCOUNTS_DEFAULT_PAGE = 20;
export const ACCOUNTS_MAX_PAGE = 100;
const USER_ACCOUNTS_LIMIT = 200;

/** Rejects ids that can never match (the column is a UUID) before Postgres does, with a typed error. */
export function assertAccountId(id: string): void {
  if (!isUuid(id)) throw adminError('BAD_USER_INPUT', 'id must be an account id (UUID)', { argument: 'id' });
}

/**
 * Postgres text cannot hold U+0000: a string with one fails the query (22021), which would surface as an internal
 * error. No stored value can contain it, so it is refused as input instead.
 */
export function assertNoNul(value: string | null | undefined, argument: string): void {
  if (value?.includes('\u0000')) {
    throw adminError('BAD_USER_INPUT', `${argument} must not contain NUL characters`, { argument });
  }
}

function checkFilter(filter: AccountFilter | null | undefined): AccountFilter {
  const f = filter ?? {};
  if (f.search != null && f.search.length > 200) {
    throw adminError('BAD_USER_INPUT', 'search must be at most 200 characters', { argument: 'filter.search' });
  }
  if (f.userId != null && (f.userId.length === 0 || f.userId.length > 255)) {
    throw adminError('BAD_USER_INPUT', 'userId must be 1 to 255 characters', { argument: 'filter.userId' });
  }
  assertNoNul(f.search, 'filter.search');
  assertNoNul(f.userId, 'filter.userId');
  return f;
}

export const queryResolvers: IResolvers['Query'] = {
  async accounts(_root, args: { filter?: AccountFilter | null; first?: number | null; after?: string | null }, ctx) {
    const filter = checkFilter(args.filter);
    const limit = pageSize(args.first, ACCOUNTS_DEFAULT_PAGE, ACCOUNTS_MAX_PAGE);
    const after = args.after ? decodeCursor('a', args.after) : undefined;
    const rows = await ctx.repo.page(filter, limit + 1, after);
    // totalCount is a function: graphql-js only calls it (one COUNT query) when the client selects it.
    return { ...forwardPage('a', rows, limit, after !== undefined), totalCount: () => ctx.repo.count(filter) };
  },

  async account(_root, args: { id: string }, ctx) {
    assertAccountId(args.id);
    return ctx.repo.byId(args.id);
  },

  async userAccounts(_root, args: { userId: string; includeDisconnected?: boolean | null }, ctx) {
    checkFilter({ userId: args.userId });
    const rows: AccountRow[] = await ctx.repo.page({ userId: args.userId }, USER_ACCOUNTS_LIMIT);
    return args.includeDisconnected === false ? rows.filter((r) => r.status !== 'DISCONNECTED') : rows;
  },

  async accountStats(_root, args: { filter?: AccountFilter | null }, ctx) {
    const counts = await ctx.repo.countByStatus(checkFilter(args.filter));
    let total = 0;
    for (const n of counts.values()) total += n;
    return { total, byStatus: ACCOUNT_STATUSES.map((status) => ({ status, count: counts.get(status) ?? 0 })) };
  },

  async recentEvents(_root, args: { types?: string[] | null; first?: number | null; after?: string | null }, ctx) {
    const limit = pageSize(args.first, 20, 100);
    const after = args.after ? decodeCursor('e', args.after) : undefined;
    const rows = await ctx.repo.recentEvents(limit + 1, args.types ?? null, after);
    return eventConnection(rows, limit, after !== undefined);
  },

  async queues(_root, _args, ctx) {
    try {
      return await Promise.all(
        ctx.queues.all().map(async (queue) => {
          const [counts, paused] = await Promise.all([
            queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
            queue.isPaused(),
          ]);
          return {
            name: queue.name,
            paused,
            waiting: counts.waiting ?? 0,
            active: counts.active ?? 0,
            delayed: counts.delayed ?? 0,
            failed: counts.failed ?? 0,
            completed: counts.completed ?? 0,
            prioritized: counts.prioritized ?? 0,
          };
        }),
      );
    } catch (error) {
      throw adminError(
        'QUEUE_UNAVAILABLE',
        'Queue statistics are unavailable (Redis unreachable)',
        {},
        { cause: error },
      );
    }
  },
};
