import type { MercuriusContext } from 'mercurius';
import { decodeCursor, forwardPage, pageSize } from './cursor.js';
import type { AccountRow, EventRow } from './repository.js';

export const EVENTS_DEFAULT_PAGE = 10;
export const EVENTS_MAX_PAGE = 50;

export interface EventConnection {
  edges: { cursor: string; node: EventRow }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** Builds a forward page from `limit + 1` rows: the extra row only tells whether there is a next page. */
export function eventConnection(rows: EventRow[], limit: number, hadAfter: boolean): EventConnection {
  return forwardPage('e', rows, limit, hadAfter);
}

interface EventsParams {
  first?: number | null;
  after?: string | null;
}

/**
 * Mercurius loaders: every `Account.events` (and `AccountEvent.account`) resolved in one request is collected and
 * fetched together, so a page of 50 accounts with their events costs the same number of queries as a page of 5.
 */
export const loaders = {
  Account: {
    async events(queries: { obj: AccountRow; params: EventsParams }[], ctx: MercuriusContext) {
      // Accounts asked with different arguments (aliases) are fetched per distinct argument set: still a constant.
      const groups = new Map<string, { params: EventsParams; indexes: number[] }>();
      queries.forEach((q, index) => {
        const key = `${q.params.first ?? ''}|${q.params.after ?? ''}`;
        const group = groups.get(key) ?? { params: q.params, indexes: [] };
        group.indexes.push(index);
        groups.set(key, group);
      });
      const results: EventConnection[] = new Array(queries.length);
      await Promise.all(
        [...groups.values()].map(async ({ params, indexes }) => {
          const limit = pageSize(params.first, EVENTS_DEFAULT_PAGE, EVENTS_MAX_PAGE);
          const after = params.after ? decodeCursor('e', params.after) : undefined;
          const ids = indexes.map((i) => queries[i]!.obj.id);
          const rows = await ctx.repo.eventsForAccounts(ids, limit + 1, after);
          const byAccount = new Map<string, EventRow[]>();
          for (const row of rows) {
            const list = byAccount.get(row.accountId);
            if (list) list.push(row);
            else byAccount.set(row.accountId, [row]);
          }
          for (const i of indexes) {
            results[i] = eventConnection(byAccount.get(queries[i]!.obj.id) ?? [], limit, after !== undefined);
          }
        }),
      );
      return results;
    },
  },
  AccountEvent: {
    async account(queries: { obj: EventRow }[], ctx: MercuriusContext) {
      const ids = [...new Set(queries.map((q) => q.obj.accountId))];
      const rows = await ctx.repo.byIds(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return queries.map((q) => byId.get(q.obj.accountId) ?? null);
    },
  },
};
