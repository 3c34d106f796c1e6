import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, seedAccounts, startTestAdmin, type TestAdmin } from './helpers.js';

let t: TestAdmin;

beforeAll(async () => {
  t = await startTestAdmin();
  await seedAccounts(t.db.prisma, 5);
});

afterAll(async () => {
  await t?.close();
});

async function gql(body: unknown) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.json() as { data: unknown; errors?: { extensions: { code: string } }[] } };
}

describe('bad input to the admin API is a client error, never INTERNAL_SERVER_ERROR', () => {
  it('refuses a NUL character in userId, search and reason with BAD_USER_INPUT (Postgres text cannot hold it)', async () => {
    const active = await t.db.prisma.socialAccount.findFirstOrThrow({ where: { status: 'ACTIVE' } });
    const cases = [
      { query: 'query($u: String!) { userAccounts(userId: $u) { id } }', variables: { u: 'user-1\u0000' } },
      { query: 'query($s: String) { accounts(filter: { search: $s }) { totalCount } }', variables: { s: 'a\u0000' } },
      { query: 'query($u: String) { accountStats(filter: { userId: $u }) { total } }', variables: { u: '\u0000' } },
      {
        query: 'mutation($id: ID!, $r: String) { disconnectAccount(id: $id, reason: $r) { id } }',
        variables: { id: active.id, r: 'ticket\u0000' },
      },
    ];
    for (const body of cases) {
      const res = await gql(body);
      expect(res.body.errors?.[0]?.extensions.code, body.query).toBe('BAD_USER_INPUT');
    }
    // Refused before anything was written.
    expect((await t.db.prisma.socialAccount.findUniqueOrThrow({ where: { id: active.id } })).status).toBe('ACTIVE');
  });

  it('answers a query that is JSON rather than GraphQL ("5", "{}", a hand-made AST) with 400 GRAPHQL_PARSE_FAILED', async () => {
    for (const query of [
      '5',
      '{}',
      '[]',
      'null',
      '{"kind":"Document","definitions":[{"kind":"OperationDefinition"}]}',
    ]) {
      const res = await gql({ query });
      expect(res.status, query).toBe(400);
      expect(res.body.errors?.[0]?.extensions.code, query).toBe('GRAPHQL_PARSE_FAILED');
    }
    // A number in the body is coerced to the string "5" by the body schema: the same case.
    const coerced = await gql({ query: 5 });
    expect(coerced.status).toBe(400);
    expect(coerced.body.errors?.[0]?.extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    // Real queries, parsed or from the cache, still run.
    for (let i = 0; i < 2; i++) {
      const ok = await gql({ query: '{ accountStats { total } }' });
      expect(ok.body).toEqual({ data: { accountStats: { total: 5 } } });
    }
  });

  it('refuses a mutation sent with GET as BAD_REQUEST', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/graphql?query=${encodeURIComponent('mutation { refreshAccount(id: "00000000-0000-0000-0000-000000000000") { id } }')}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].extensions.code).toBe('BAD_REQUEST');
  });
});
