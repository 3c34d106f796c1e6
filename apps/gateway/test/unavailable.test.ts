// Postgres or Redis down: every route family answers 503 with Retry-After (a page for browsers, GW_UNAVAILABLE for
// the API), never a 500, and within a bound; and works again once the dependency is back. A private Redis and a
// private PostgreSQL of this file's own are stopped and restarted: never the shared ones.
import { randomUUID } from 'node:crypto';
import { createAccounts } from '@ttc/accounts';
import { makeTestConnection } from '@ttc/accounts/testing';
import { type PrivateServer, startPrivatePostgres, startPrivateRedis } from '@ttc/testing';
import type { LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, authorizeParams, type Browser, type Harness, RETURN_TO, startHarness, text } from './harness.js';

let pg: PrivateServer;
let redis: PrivateServer;
let h: Harness;
let browser: Browser;
let accountId: string;
const userId = `user-${randomUUID()}`;

/** A request that must not hang: answered within 10 s (the bounds are 2 s per Redis command, 5 s per pool wait). */
async function timed(send: () => Promise<LightMyRequestResponse>) {
  const started = performance.now();
  const res = await send();
  const ms = performance.now() - started;
  expect(ms).toBeLessThan(10_000);
  if (res.statusCode === 503) unavailableMs.push(ms);
  return res;
}

const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  timed(() =>
    h.app.inject({ method, url, headers: { authorization: `Bearer ${API_KEY}` }, ...(payload ? { payload } : {}) }),
  );

function expectUnavailableJson(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.json()).toEqual({ error: { code: 'GW_UNAVAILABLE', message: expect.any(String) } });
}

function expectUnavailablePage(res: LightMyRequestResponse, url: string) {
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  expect(res.body).toContain('Temporarily unavailable');
  expect(res.body).toContain('GW_UNAVAILABLE');
  expect(res.body).toContain(`href="${url}"`);
  expect(res.body).not.toMatch(/at .*\.ts:\d+/);
}

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
  h = await startHarness({ redisUrl: redis.url, databaseServerUrl: pg.url });
  const opened = await h.openSession(userId);
  browser = opened.browser;
  const accounts = createAccounts({
    prisma: h.db.prisma,
    keyring: h.keyring,
    redis: h.redis,
    queues: h.queues,
    queuePrefix: h.prefix,
  });
  // Expiring in a minute: an access-token request refreshes it first, under the Redis lock.
  const now = Date.now();
  await accounts.applyConnection(
    makeTestConnection(h.keyring, {
      userId,
      obtainedAt: new Date(now - 3_600_000).toISOString(),
      accessTokenExpiresAt: new Date(now + 60_000).toISOString(),
    }).payload,
  );
  accountId = (await h.db.prisma.socialAccount.findFirstOrThrow({ where: { userId } })).id;
}, 120_000);

/** How long each 503 took to come (printed: the README quotes it). */
const unavailableMs: number[] = [];

afterAll(async () => {
  if (unavailableMs.length > 0) {
    const sorted = [...unavailableMs].sort((x, y) => x - y);
    console.log(
      `gateway: ${sorted.length} answers 503 while a dependency was stopped, median ${Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0)} ms, max ${Math.round(sorted.at(-1) ?? 0)} ms`,
    );
  }
  // Both back first (a failed test may have left one stopped), or closing the queues would wait for Redis.
  await Promise.allSettled([pg?.start(), redis?.start()]);
  await h?.close().catch(() => undefined);
  await Promise.allSettled([pg?.destroy(), redis?.destroy()]);
});

describe('with Redis down', () => {
  it('answers every route family 503 with Retry-After, then works again once Redis is back', async () => {
    const link = new URL((await h.createSession(userId)).url).pathname;
    await redis.stop();
    expectUnavailableJson(await api('POST', '/v1/connect-sessions', { userId, returnTo: 'https://app.example.com/x' }));
    expectUnavailableJson(await api('GET', '/v1/connect-sessions/cs_AAAAAAAAAAAAAAAAAAAAAA'));
    expectUnavailableJson(await api('GET', `/v1/accounts/${accountId}/access-token`));
    expectUnavailablePage(await timed(() => browser.get('/connect')), '/connect');
    expectUnavailablePage(await timed(() => h.browser().get(link)), link);
    const ready = await timed(() => h.app.inject({ method: 'GET', url: '/readyz' }));
    expect(ready.statusCode).toBe(503);

    await redis.start();
    const create = () => api('POST', '/v1/connect-sessions', { userId, returnTo: 'https://app.example.com/x' });
    await expect.poll(async () => (await create()).statusCode, { timeout: 15_000, interval: 250 }).toBe(201);
    // The restart lost the sessions (no persistence here): a new one, and its page.
    browser = (await h.openSession(userId)).browser;
    expect((await browser.get('/connect')).statusCode).toBe(200);
  }, 60_000);
});

describe('with Redis not answering', () => {
  it('answers 503 once the command timeout (2 s) has passed, not when Redis wakes up', async () => {
    const sleeper = new Redis(redis.url);
    try {
      const asleep = sleeper.call('DEBUG', 'SLEEP', '6');
      await new Promise((r) => setTimeout(r, 100));
      const started = performance.now();
      // Not through timed(): its figures are for stopped dependencies.
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/connect-sessions',
        headers: { authorization: `Bearer ${API_KEY}` },
        payload: { userId, returnTo: RETURN_TO },
      });
      expectUnavailableJson(res);
      const ms = performance.now() - started;
      console.log(`gateway: 503 with Redis hung after ${Math.round(ms)} ms`);
      expect(ms).toBeLessThan(5_000);
      await asleep;
    } finally {
      sleeper.disconnect();
    }
  }, 30_000);
});

describe('with Postgres down', () => {
  it('answers every route family 503 with Retry-After, then works again once Postgres is back', async () => {
    await pg.stop();
    expectUnavailableJson(await api('GET', `/v1/users/${userId}/accounts`));
    expectUnavailableJson(await api('GET', `/v1/accounts/${accountId}`));
    expectUnavailableJson(await api('GET', `/v1/accounts/${accountId}/access-token`));
    expectUnavailableJson(await api('DELETE', `/v1/accounts/${accountId}`));
    expectUnavailableJson(
      await api('POST', '/v1/connect-sessions', {
        userId,
        returnTo: 'https://app.example.com/x',
        reconnectAccountId: accountId,
      }),
    );
    expectUnavailablePage(await timed(() => browser.get('/connect')), '/connect');

    await pg.start();
    const list = () => api('GET', `/v1/users/${userId}/accounts`);
    await expect.poll(async () => (await list()).statusCode, { timeout: 15_000, interval: 250 }).toBe(200);
    expect((await browser.get('/connect')).statusCode).toBe(200);
  }, 60_000);
});

describe('after Redis lost a connect session while the user was at TikTok', () => {
  it('answers the callback 410 saying what to do, with a link back to the app', async () => {
    const { browser: user } = await h.openSession(userId);
    const params = authorizeParams(await user.get('/connect/tiktok'));
    const minted = await h.sandbox.control.mintCode({
      openId: (await h.sandbox.control.users())[0]?.openId ?? '',
      redirectUri: params.get('redirect_uri') ?? '',
      codeChallenge: params.get('code_challenge') ?? '',
    });
    // While Redis is down, the callback is a 503 page that leads back to the accounts (never repeating the code).
    await redis.stop();
    const down = await timed(() => user.get(`/auth/tiktok/callback?code=${minted.code}&state=${params.get('state')}`));
    expect(down.statusCode, down.body).toBe(503);
    expect(down.body).not.toContain(minted.code);
    expect(down.body).toContain('href="/connect"');
    // A restart without persistence: every session is gone.
    await redis.start();
    // The first callback once Redis answers again (a second would be a replay of the same state).
    let res = await user.get(`/auth/tiktok/callback?code=${minted.code}&state=${params.get('state')}`);
    for (let i = 0; i < 40 && res.statusCode === 503; i++) {
      await new Promise((r) => setTimeout(r, 250));
      res = await user.get(`/auth/tiktok/callback?code=${minted.code}&state=${params.get('state')}`);
    }
    expect(res.statusCode, res.body).toBe(410);
    expect(text(res.body)).toContain('GW_CONNECT_SESSION_EXPIRED');
    expect(text(res.body)).toContain('Go back to the app and start again');
    expect(res.body).toContain(`href="${RETURN_TO}"`);
    expect(text(res.body)).toContain('Back to the app');
  }, 60_000);
});
