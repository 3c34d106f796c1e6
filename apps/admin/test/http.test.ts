import { Writable } from 'node:stream';
import { createPrismaClient } from '@ttc/db';
import { createRedisConnection } from '@ttc/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdmin } from '../src/app.js';
import { ADMIN_TOKEN, COOKIE_SECRET, gql, seedAccounts, startTestAdmin, type TestAdmin } from './helpers.js';

let admin: TestAdmin;
beforeAll(async () => {
  admin = await startTestAdmin({ loginAttemptsPerMinute: 20 });
  await seedAccounts(admin.db.prisma, 12);
});
afterAll(async () => admin?.close());

async function login(): Promise<{ cookie: string; csrf: string }> {
  const res = await admin.app.inject({
    method: 'POST',
    url: '/console/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    payload: new URLSearchParams({ token: ADMIN_TOKEN, next: '/console' }).toString(),
  });
  expect(res.statusCode).toBe(303);
  expect(res.headers.location).toBe('/console');
  const setCookie = String(res.headers['set-cookie']);
  const cookie = setCookie.split(';')[0]!;
  const page = await admin.app.inject({ method: 'GET', url: '/console', headers: { cookie } });
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.body)?.[1];
  return { cookie, csrf: csrf! };
}

describe('console login', () => {
  it('sends a visitor without a session to the login form', async () => {
    const res = await admin.app.inject({ method: 'GET', url: '/console' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console/login?next=/console');
    const form = await admin.app.inject({ method: 'GET', url: '/console/login' });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="token"');
  });

  it('refuses a wrong token without setting a cookie', async () => {
    const res = await admin.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'token=nope&next=/console',
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toContain('error=invalid');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('exchanges a token for a sealed HttpOnly SameSite=Strict cookie that does not contain it', async () => {
    const res = await admin.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token: ADMIN_TOKEN, next: 'https://evil.example/' }).toString(),
    });
    expect(res.headers.location).toBe('/console');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^ttc_admin_session=v1\./);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).not.toContain(ADMIN_TOKEN);
  });

  it.each([
    ['/console', 'console.js'],
    ['/console/webhooks', 'webhooks.js'],
  ])('serves %s with a strict CSP and no inline script', async (path, script) => {
    const { cookie } = await login();
    const page = await admin.app.inject({ method: 'GET', url: path, headers: { cookie } });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page.body).toContain(`src="/console/assets/${script}"`);
    expect(page.headers['x-frame-options']).toBeDefined();
    for (const name of [script, 'common.js']) {
      const js = await admin.app.inject({ method: 'GET', url: `/console/assets/${name}` });
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toContain('javascript');
    }
  });

  it('sends a visitor without a session from the webhooks view to the login form and back', async () => {
    const res = await admin.app.inject({ method: 'GET', url: '/console/webhooks' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console/login?next=/console/webhooks');
  });

  it('refuses a login form posted from another site', async () => {
    const res = await admin.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      payload: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
    });
    expect(res.statusCode).toBe(403);
  });

  it('rate-limits login attempts per client', async () => {
    const attempt = () =>
      admin.app.inject({
        method: 'POST',
        url: '/console/login',
        remoteAddress: '10.9.8.7',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'token=guess',
      });
    for (let i = 0; i < 20; i++) expect((await attempt()).statusCode).toBe(303);
    const limited = await attempt();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
  });
});

describe('cookie sessions on the API', () => {
  it('accepts the cookie with the CSRF header and refuses it without', async () => {
    const { cookie, csrf } = await login();
    const without = await gql(admin.app, '{ accountStats { total } }', undefined, { cookie });
    expect(without.statusCode).toBe(403);
    expect(without.json().errors[0].extensions.code).toBe('CSRF_REJECTED');
    expect(without.json().data).toBeUndefined();
    const wrong = await gql(admin.app, '{ accountStats { total } }', undefined, {
      cookie,
      'x-admin-csrf': 'x'.repeat(32),
    });
    expect(wrong.statusCode).toBe(403);
    const ok = await gql(admin.app, '{ accountStats { total } }', undefined, { cookie, 'x-admin-csrf': csrf });
    expect(ok.json()).toEqual({ data: { accountStats: { total: 12 } } });
  });

  it('refuses a forged or tampered cookie', async () => {
    const { cookie, csrf } = await login();
    const tampered = `${cookie.slice(0, -4)}AAAA`;
    const res = await gql(admin.app, '{ accountStats { total } }', undefined, {
      cookie: tampered,
      'x-admin-csrf': csrf,
    });
    expect(res.statusCode).toBe(401);
  });

  it('ends the session on logout', async () => {
    const { cookie, csrf } = await login();
    const res = await admin.app.inject({
      method: 'POST',
      url: '/console/logout',
      headers: { cookie, 'x-admin-csrf': csrf },
    });
    expect(res.statusCode).toBe(204);
    expect(String(res.headers['set-cookie'])).toContain('Max-Age=0');
  });
});

describe('console logout', () => {
  it('refuses a cookie captured before logout, and only that session', async () => {
    const captured = await login();
    const other = await login();
    const query = (session: { cookie: string; csrf: string }) =>
      admin.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { cookie: session.cookie, 'x-admin-csrf': session.csrf, 'content-type': 'application/json' },
        payload: { query: '{ __typename }' },
      });
    expect((await query(captured)).statusCode).toBe(200);
    const signedOut = () => admin.redis.keys(`${admin.prefix}:admin:signed-out:*`);
    const before = await signedOut();
    const out = await admin.app.inject({
      method: 'POST',
      url: '/console/logout',
      headers: { cookie: captured.cookie, 'x-admin-csrf': captured.csrf },
    });
    expect(out.statusCode).toBe(204);

    expect((await query(captured)).statusCode).toBe(401);
    const page = await admin.app.inject({ method: 'GET', url: '/console', headers: { cookie: captured.cookie } });
    expect(page.headers.location).toBe('/console/login?next=/console');
    expect((await query(other)).statusCode).toBe(200);
    // Kept in Redis under the admin's prefix, no longer than the session would have lived.
    const added = (await signedOut()).filter((key) => !before.includes(key));
    expect(added).toHaveLength(1);
    const ttl = await admin.redis.pttl(added[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(8 * 3600 * 1000);
  });
});

describe('queue dashboard', () => {
  it('is behind admin auth: redirects a browser to login, refuses API calls without a token', async () => {
    const page = await admin.app.inject({ method: 'GET', url: '/queues' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/console/login?next=%2Fqueues');
    const api = await admin.app.inject({ method: 'GET', url: '/queues/api/queues' });
    expect(api.statusCode).toBe(401);
  });

  it('serves the dashboard to a bearer token or a console session', async () => {
    const api = await admin.app.inject({
      method: 'GET',
      url: '/queues/api/queues?activeQueue=token.refresh&page=1',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(api.statusCode).toBe(200);
    expect(api.json().queues.map((q: { name: string }) => q.name)).toContain('token.refresh');
    const { cookie } = await login();
    const page = await admin.app.inject({ method: 'GET', url: '/queues', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<div id="root">');
  });

  it('refuses cross-site state changes made with the session cookie', async () => {
    const { cookie } = await login();
    const res = await admin.app.inject({
      method: 'PUT',
      url: '/queues/api/queues/token.refresh/pause',
      headers: { cookie, 'sec-fetch-site': 'cross-site' },
    });
    expect(res.statusCode).toBe(403);
    expect(await admin.queues.tokenRefresh.isPaused()).toBe(false);
  });
});

describe('operations', () => {
  it('answers /healthz and /readyz when Postgres and Redis are up', async () => {
    expect((await admin.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await admin.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('fails readiness with 503 when Postgres or Redis is down', async () => {
    const deadPrisma = createPrismaClient('postgresql://postgres@127.0.0.1:1/none', { connectionTimeoutMs: 300 });
    const deadRedis = createRedisConnection('redis://127.0.0.1:1', 'client', 'admin-test-dead');
    deadRedis.on('error', () => {});
    const app = await buildAdmin({
      config: {
        env: 'test',
        adminApiTokens: [ADMIN_TOKEN],
        cookieSecret: COOKIE_SECRET,
        queuePrefix: admin.prefix,
        publicAdminUrl: 'http://127.0.0.1',
        refreshLeadSeconds: 600,
      },
      prisma: deadPrisma,
      redis: deadRedis,
      queues: admin.queues,
      keyring: (await import('@ttc/crypto')).parseKeyring(`k1:${Buffer.alloc(32, 1).toString('base64')}`),
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'down', redis: 'down' } });
      const liveness = await app.inject({ method: 'GET', url: '/healthz' });
      expect(liveness.statusCode).toBe(200);
    } finally {
      await app.close();
      deadRedis.disconnect();
      await deadPrisma.$disconnect();
    }
  });

  it('exports Prometheus metrics for HTTP, accounts per status and queue depth, to admins only', async () => {
    expect((await admin.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    await admin.queues.tokenRefresh.add(
      'token.refresh',
      { accountId: 'x', reason: 'manual' },
      { jobId: 'metrics-probe' },
    );
    const res = await admin.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/ttc_accounts\{status="ACTIVE"\} 9/);
    expect(res.body).toMatch(/ttc_accounts\{status="DISCONNECTED"\} 1/);
    expect(res.body).toMatch(/ttc_queue_jobs\{queue="token.refresh",state="waiting"\} 1/);
    expect(res.body).toMatch(/ttc_admin_http_requests_total\{method="GET",route="\/healthz",status_code="200"\}/);
  });

  it('never writes tokens or session cookies to the logs', async () => {
    let logs = '';
    const stream = new Writable({
      write(chunk, _enc, done) {
        logs += chunk.toString();
        done();
      },
    });
    const app = await buildAdmin({
      config: {
        env: 'test',
        adminApiTokens: [ADMIN_TOKEN],
        cookieSecret: COOKIE_SECRET,
        queuePrefix: admin.prefix,
        publicAdminUrl: 'http://127.0.0.1',
        refreshLeadSeconds: 600,
      },
      prisma: admin.db.prisma,
      redis: admin.redis,
      queues: admin.queues,
      keyring: (await import('@ttc/crypto')).parseKeyring(`k1:${Buffer.alloc(32, 1).toString('base64')}`),
      logger: { level: 'trace', stream },
    });
    try {
      const loginRes = await app.inject({
        method: 'POST',
        url: '/console/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
      });
      const cookie = String(loginRes.headers['set-cookie']).split(';')[0]!;
      await gql(app, '{ nope }', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
      await gql(app, '{ accountStats { total } }', undefined, { cookie });
      app.log.info({ headers: { authorization: `Bearer ${ADMIN_TOKEN}`, cookie } }, 'probe');
      expect(logs.length).toBeGreaterThan(0);
      expect(logs).toContain('[redacted]');
      expect(logs).not.toContain(ADMIN_TOKEN);
      expect(logs).not.toContain(cookie.split('=')[1]!);
    } finally {
      await app.close();
    }
  });
});
