// Postgres or Redis down: the GraphQL API answers HTTP 503 with `extensions.code = SERVICE_UNAVAILABLE` (or
// QUEUE_UNAVAILABLE for queue work) and Retry-After, the console and HTTP routes 503 too, never a 500 or a hang; all
// of it works again once the dependency is back. A private Redis and PostgreSQL of this file's own are stopped.
import { createTestDatabase } from '@ttc/db/testing';
import { type PrivateServer, startPrivatePostgres, startPrivateRedis } from '@ttc/testing';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, gql, seedAccounts, startTestAdmin, type TestAdmin } from './helpers.js';

let pg: PrivateServer;
let redis: PrivateServer;
let admin: TestAdmin;
let cookie: string;
let accountId: string;

async function timed(send: () => Promise<LightMyRequestResponse>) {
  const started = performance.now();
  const res = await send();
  const ms = performance.now() - started;
  expect(ms).toBeLessThan(10_000);
  if (res.statusCode === 503) unavailableMs.push(ms);
  return res;
}

function expectGraphqlUnavailable(res: LightMyRequestResponse, code = 'SERVICE_UNAVAILABLE') {
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  const body = res.json() as { errors: { message: string; extensions: { code: string } }[] };
  expect(body.errors.map((e) => e.extensions.code)).toContain(code);
  expect(res.body).not.toContain('INTERNAL_SERVER_ERROR');
}

const ACCOUNTS = '{ accounts(first: 5) { totalCount edges { node { id } } } }';

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
  admin = await startTestAdmin({ db: await createTestDatabase({ serverUrl: pg.url }), redisUrl: redis.url });
  await seedAccounts(admin.db.prisma, 3);
  accountId = (await admin.db.prisma.socialAccount.findFirstOrThrow({ where: { status: 'ACTIVE' } })).id;
  const login = await admin.app.inject({
    method: 'POST',
    url: '/console/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `token=${encodeURIComponent(ADMIN_TOKEN)}&next=%2Fconsole`,
  });
  cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
  expect(cookie).toMatch(/=/);
}, 120_000);

/** How long each 503 took to come (printed: the README quotes it). */
const unavailableMs: number[] = [];

afterAll(async () => {
  if (unavailableMs.length > 0) {
    const sorted = [...unavailableMs].sort((x, y) => x - y);
    console.log(
      `admin: ${sorted.length} answers 503 while a dependency was down, median ${Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0)} ms, max ${Math.round(sorted.at(-1) ?? 0)} ms`,
    );
  }
  await Promise.allSettled([pg?.start(), redis?.start()]);
  await admin?.close().catch(() => undefined);
  await Promise.allSettled([pg?.destroy(), redis?.destroy()]);
});

describe('with Postgres down', () => {
  it('answers GraphQL 503 SERVICE_UNAVAILABLE with Retry-After, then works again', async () => {
    await pg.stop();
    expectGraphqlUnavailable(await timed(() => gql(admin.app, ACCOUNTS)));
    expectGraphqlUnavailable(await timed(() => gql(admin.app, `{ account(id: "${accountId}") { id status } }`)));
    expectGraphqlUnavailable(
      await timed(() => gql(admin.app, `mutation { refreshAccount(id: "${accountId}") { id } }`)),
    );
    await pg.start();
    await expect.poll(async () => (await gql(admin.app, ACCOUNTS)).statusCode, { timeout: 15_000 }).toBe(200);
  }, 60_000);
});

describe('with Redis down', () => {
  it('answers GraphQL, the console and its session check 503, then works again', async () => {
    await redis.stop();
    expectGraphqlUnavailable(await timed(() => gql(admin.app, '{ queues { name waiting } }')), 'QUEUE_UNAVAILABLE');
    expectGraphqlUnavailable(
      await timed(() => gql(admin.app, `mutation { refreshAccount(id: "${accountId}") { id } }`)),
      'QUEUE_UNAVAILABLE',
    );
    // A console session is checked against the sign-out list in Redis.
    expectGraphqlUnavailable(
      await timed(() => gql(admin.app, ACCOUNTS, undefined, { cookie, 'x-admin-csrf': 'whatever' })),
    );
    const page = await timed(() =>
      admin.app.inject({ method: 'GET', url: '/console', headers: { cookie, accept: 'text/html' } }),
    );
    expect(page.statusCode, page.body).toBe(503);
    expect(page.headers['retry-after']).toBe('5');
    expect(page.body).toContain('Temporarily unavailable');
    const ready = await timed(() => admin.app.inject({ method: 'GET', url: '/readyz' }));
    expect(ready.statusCode).toBe(503);

    await redis.start();
    await expect
      .poll(async () => (await gql(admin.app, '{ queues { name } }')).statusCode, { timeout: 15_000 })
      .toBe(200);
    const back = await admin.app.inject({ method: 'GET', url: '/console', headers: { cookie, accept: 'text/html' } });
    expect(back.statusCode).toBe(200);
  }, 60_000);
});
