import type { PrismaClient } from '@ttc/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, gql, seedAccounts, seedEvents, startTestAdmin, type TestAdmin } from './helpers.js';

const ACCOUNTS = 1_200;
let admin: TestAdmin;
let sqlQueries = 0;

beforeAll(async () => {
  admin = await startTestAdmin({
    // Counts every query the app sends, raw ones included, to prove the loaders batch.
    wrapPrisma: (prisma) =>
      prisma.$extends({
        query: {
          async $allOperations({ args, query }) {
            sqlQueries++;
            return query(args);
          },
        },
      }) as unknown as PrismaClient,
  });
  await seedAccounts(admin.db.prisma, ACCOUNTS);
  await seedEvents(admin.db.prisma, 4);
});
afterAll(async () => admin?.close());

const PAGE = `query Page($first: Int, $after: String, $filter: AccountFilter) {
  accounts(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id displayName status createdAt } }
  }
}`;

interface PageData {
  accounts: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
    edges: { cursor: string; node: { id: string; displayName: string; status: string; createdAt: string } }[];
  };
}

async function page(variables: Record<string, unknown>): Promise<PageData> {
  const res = await gql(admin.app, PAGE, variables);
  const body = res.json();
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  expect(res.statusCode).toBe(200);
  return body.data;
}

async function walkAll(filter: Record<string, unknown> | null, first: number) {
  const ids: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const data = await page({ first, after, filter });
    ids.push(...data.accounts.edges.map((e) => e.node.id));
    pages++;
    if (!data.accounts.pageInfo.hasNextPage) return { ids, pages, total: data.accounts.totalCount };
    after = data.accounts.pageInfo.endCursor;
  }
}

describe('authentication', () => {
  it('refuses a request without a token with 401 and no data', async () => {
    const res = await gql(admin.app, '{ accounts { totalCount } }', undefined, {});
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    const body = res.json();
    expect(body.data).toBeUndefined();
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a wrong bearer token and a GET query without a token', async () => {
    const wrong = await gql(admin.app, '{ accounts { totalCount } }', undefined, {
      authorization: `Bearer ${ADMIN_TOKEN}x`,
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().data).toBeUndefined();
    const get = await admin.app.inject({ method: 'GET', url: '/graphql?query={accounts{totalCount}}' });
    expect(get.statusCode).toBe(401);
  });
});

describe('accounts', () => {
  it(`pages through ${ACCOUNTS} accounts with no gaps or repeats, in (createdAt desc, id desc) order`, async () => {
    const expected = (
      await admin.db.prisma.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM social_accounts ORDER BY created_at DESC, id DESC`
    ).map((r) => r.id);
    for (const first of [100, 37]) {
      const { ids, pages, total } = await walkAll(null, first);
      expect(total).toBe(ACCOUNTS);
      expect(new Set(ids).size).toBe(ACCOUNTS);
      expect(ids).toEqual(expected);
      expect(pages).toBe(Math.ceil(ACCOUNTS / first));
    }
  });

  it('reports page boundaries in pageInfo', async () => {
    const first = await page({ first: 10 });
    expect(first.accounts.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(first.accounts.pageInfo.startCursor).toBe(first.accounts.edges[0]?.cursor);
    const second = await page({ first: 10, after: first.accounts.pageInfo.endCursor });
    expect(second.accounts.pageInfo.hasPreviousPage).toBe(true);
    expect(second.accounts.edges[0]?.node.id).not.toBe(first.accounts.edges[9]?.node.id);
  });

  it('filters by status and user, and pages within a filter', async () => {
    const active = await walkAll({ status: 'ACTIVE' }, 100);
    expect(active.total).toBe(960);
    expect(new Set(active.ids).size).toBe(960);
    expect((await page({ first: 5, filter: { status: 'REAUTH_REQUIRED' } })).accounts.totalCount).toBe(120);
    const user = await page({ first: 100, filter: { userId: 'user-3' } });
    expect(user.accounts.totalCount).toBe(120);
    const both = await walkAll({ userId: 'user-3', status: 'ACTIVE' }, 25);
    expect(both.total).toBe(120);
    expect(both.ids).toHaveLength(120);
  });

  it('searches display names and usernames case-insensitively, and open ids exactly', async () => {
    const byName = await page({ first: 50, filter: { search: 'creator 1199' } });
    expect(byName.accounts.edges.map((e) => e.node.displayName)).toEqual(['Creator 1199']);
    const byUsername = await page({ first: 50, filter: { search: 'CREATOR_115' } });
    expect(byUsername.accounts.totalCount).toBe(11); // creator_115 and creator_1150..1159
    const byOpenId = await page({ first: 50, filter: { search: 'open-77' } });
    expect(byOpenId.accounts.edges.map((e) => e.node.displayName)).toEqual(['Creator 77']);
  });

  it('treats LIKE wildcards in a search as literal characters', async () => {
    expect((await page({ first: 5, filter: { search: '%' } })).accounts.totalCount).toBe(0);
    expect((await page({ first: 5, filter: { search: 'Creator%1' } })).accounts.totalCount).toBe(0);
    expect((await page({ first: 5, filter: { search: 'Creator 1%' } })).accounts.totalCount).toBe(0);
  });

  it('counts accounts per status', async () => {
    const res = await gql(admin.app, '{ accountStats { total byStatus { status count } } }');
    expect(res.json().data.accountStats).toEqual({
      total: 1200,
      byStatus: [
        { status: 'ACTIVE', count: 960 },
        { status: 'REAUTH_REQUIRED', count: 120 },
        { status: 'DISCONNECTED', count: 120 },
      ],
    });
  });

  it("lists one user's accounts", async () => {
    const res = await gql(admin.app, '{ userAccounts(userId: "user-0", includeDisconnected: false) { status } }');
    const list = res.json().data.userAccounts as { status: string }[];
    // user-0 holds the i % 10 == 0 accounts, all disconnected.
    expect(list).toEqual([]);
    const all = await gql(admin.app, '{ userAccounts(userId: "user-0") { status } }');
    expect(all.json().data.userAccounts).toHaveLength(120);
  });
});

describe('account', () => {
  it('returns an account with its events newest first, paginated', async () => {
    const [row] = await admin.db.prisma.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM social_accounts WHERE open_id = 'open-5'`;
    const query = `query A($id: ID!, $after: String) { account(id: $id) { id openId displayName status
      accessTokenExpiresAt events(first: 3, after: $after) { pageInfo { hasNextPage endCursor }
      edges { node { id type message createdAt account { id } } } } } }`;
    const first = (await gql(admin.app, query, { id: row!.id })).json().data.account;
    expect(first.openId).toBe('open-5');
    expect(first.events.edges.map((e: { node: { message: string } }) => e.node.message)).toEqual([
      'event 4',
      'event 3',
      'event 2',
    ]);
    expect(first.events.edges[0].node.account.id).toBe(row!.id);
    expect(first.events.pageInfo.hasNextPage).toBe(true);
    const rest = (await gql(admin.app, query, { id: row!.id, after: first.events.pageInfo.endCursor })).json().data
      .account;
    expect(rest.events.edges.map((e: { node: { message: string } }) => e.node.message)).toEqual(['event 1']);
    expect(rest.events.pageInfo.hasNextPage).toBe(false);
  });

  it('returns null for an unknown id', async () => {
    const res = await gql(admin.app, '{ account(id: "018f0000-0000-7000-8000-000000000000") { id } }');
    expect(res.json()).toEqual({ data: { account: null } });
  });

  it('exposes no token through any field', async () => {
    const intro = await gql(admin.app, '{ __schema { types { name fields { name } inputFields { name } } } }');
    const names = (intro.json().data.__schema.types as { name: string; fields: { name: string }[] | null }[]).flatMap(
      (t) => (t.fields ?? []).map((f) => `${t.name}.${f.name}`),
    );
    expect(names.filter((n) => /ciphertext|token(?!ExpiresAt)/i.test(n))).toEqual([]);
    const full = await gql(
      admin.app,
      `{ accounts(first: 100) { edges { node { id userId platform openId unionId displayName username avatarUrl
        scopes status accessTokenExpiresAt refreshTokenExpiresAt nextRefreshAt lastRefreshedAt refreshFailureCount
        lastError lastErrorAt connectedAt disconnectedAt createdAt updatedAt
        events(first: 5) { edges { node { id type message data createdAt } } } } } } }`,
    );
    expect(full.statusCode).toBe(200);
    expect(full.body).not.toContain('secret-access');
    expect(full.body).not.toContain('secret-refresh');
    expect(full.body).not.toContain('must-not-leak');
  });
});

describe('errors', () => {
  const code = (res: { json(): { errors?: { extensions?: { code?: string } }[] } }) =>
    res.json().errors?.[0]?.extensions?.code;

  it('answers a syntax error with 400 GRAPHQL_PARSE_FAILED', async () => {
    const res = await gql(admin.app, '{ accounts { ');
    expect(res.statusCode).toBe(400);
    expect(code(res)).toBe('GRAPHQL_PARSE_FAILED');
    expect(res.json().data).toBeNull();
  });

  it('answers an unknown field with 400 GRAPHQL_VALIDATION_FAILED', async () => {
    const res = await gql(admin.app, '{ accounts { edges { node { accessToken } } } }');
    expect(res.statusCode).toBe(400);
    expect(code(res)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('answers a variable of the wrong type with 400 BAD_USER_INPUT', async () => {
    const res = await gql(admin.app, PAGE, { first: 'ten' });
    expect(res.statusCode).toBe(400);
    expect(code(res)).toBe('BAD_USER_INPUT');
    const status = await gql(admin.app, PAGE, { filter: { status: 'SLEEPING' } });
    expect(code(status)).toBe('BAD_USER_INPUT');
  });

  it('answers an invalid cursor, page size or id with BAD_USER_INPUT', async () => {
    for (const variables of [{ after: 'not-a-cursor' }, { after: 'ZXwxfDI' }, { first: 0 }, { first: 101 }]) {
      const res = await gql(admin.app, PAGE, variables);
      expect(code(res), JSON.stringify(variables)).toBe('BAD_USER_INPUT');
      expect(res.json().data).toBeNull();
    }
    expect(code(await gql(admin.app, '{ account(id: "42") { id } }'))).toBe('BAD_USER_INPUT');
  });

  it('answers a body that is not a GraphQL request with 400 BAD_REQUEST', async () => {
    const res = await admin.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      payload: '{"query": ',
    });
    expect(res.statusCode).toBe(400);
    expect(code(res)).toBe('BAD_REQUEST');
  });

  it('refuses a query deeper than the limit with QUERY_TOO_DEEP and runs nothing', async () => {
    const before = sqlQueries;
    const res = await gql(
      admin.app,
      `{ accounts(first: 1) { edges { node { events(first: 1) { edges { node { account {
        events(first: 1) { edges { node { account { id } } } } } } } } } } } }`,
    );
    expect(res.statusCode).toBe(400);
    expect(code(res)).toBe('QUERY_TOO_DEEP');
    expect(res.json().data).toBeNull();
    expect(sqlQueries).toBe(before);
  });

  it('refuses a query whose cost exceeds the limit, pricing variables at their value', async () => {
    const query = `query Q($n: Int) { accounts(first: 100) { edges { node { id events(first: $n) {
      edges { node { id type message createdAt } } } } } } }`;
    const res = await gql(admin.app, query, { n: 50 });
    expect(res.statusCode).toBe(400);
    expect(code(res)).toBe('QUERY_TOO_COMPLEX');
    expect(res.json().errors[0].extensions.maxCost).toBe(10_000);
    const cheap = await gql(admin.app, query, { n: 2 });
    expect(cheap.statusCode).toBe(200);
  });
});

describe('query count', () => {
  it('loads a page of accounts with their events in a constant number of SQL queries', async () => {
    const query = `query Q($first: Int) { accounts(first: $first) { totalCount edges { node { id displayName
      events(first: 5) { edges { node { id type account { id displayName } } } } } } } }`;
    const count = async (first: number) => {
      const before = sqlQueries;
      const res = await gql(admin.app, query, { first });
      expect(res.statusCode).toBe(200);
      expect(res.json().data.accounts.edges).toHaveLength(first);
      return sqlQueries - before;
    };
    const small = await count(5);
    const large = await count(50);
    expect(small).toBeGreaterThan(0);
    expect(large).toBe(small);
    // page + count + events + event accounts
    expect(large).toBe(4);
  });
});
