import { hashToken } from '@ttc/crypto';
import { CONNECT_SESSION_RETENTION_SECONDS } from '@ttc/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeSecurityHeaders, redirectHeaders } from '../src/plugins/security-headers.js';
import { API_KEY, dumpKey, type Harness, PUBLIC_URL, RETURN_TO, scanKeys, startHarness, text } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

function post(payload: unknown, headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` }) {
  const raw = typeof payload === 'string';
  return h.app.inject({
    method: 'POST',
    url: '/v1/connect-sessions',
    headers: raw ? { ...headers, 'content-type': 'application/json' } : headers,
    payload: raw ? payload : (payload as object),
  });
}

describe('POST /v1/connect-sessions', () => {
  it('creates a session: 201 { id, url, expiresAt, clientToken… } with a one-time url under the public gateway url', async () => {
    const before = Date.now();
    const res = await post({ userId: 'user-1', returnTo: RETURN_TO });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['clientToken', 'clientTokenExpiresAt', 'expiresAt', 'id', 'url']);
    // The browser's token for this session's results: another secret than the link's, valid 10 minutes longer.
    expect(body.clientToken).toMatch(/^ct_[A-Za-z0-9_-]{43}$/);
    expect(body.url).not.toContain(body.clientToken.slice(3));
    expect(Date.parse(body.clientTokenExpiresAt) - Date.parse(body.expiresAt)).toBe(600_000);
    // A public id, and a link carrying its own secret: the id alone opens nothing.
    expect(body.id).toMatch(/^cs_[A-Za-z0-9_-]{22}$/);
    expect(body.url).toMatch(new RegExp(`^${PUBLIC_URL}/connect/${body.id}\\.[A-Za-z0-9_-]{43}$`));
    const expiresAt = Date.parse(body.expiresAt);
    const ttl = h.config.connectSessionTtlSeconds * 1000;
    expect(expiresAt).toBeGreaterThanOrEqual(before + ttl - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + ttl + 1000);
  });

  it('stores the session under its public id, never the link secret, and keeps it a day past its expiry', async () => {
    const { id, url } = (await post({ userId: 'user-hash', returnTo: RETURN_TO })).json();
    const secret = new URL(url).pathname.split('.')[1] as string;
    const key = `${h.prefix}:connect-session:${id}`;
    const ttl = await h.redis.ttl(key);
    const keep = h.config.connectSessionTtlSeconds + CONNECT_SESSION_RETENTION_SECONDS;
    expect(ttl).toBeGreaterThan(keep - 5);
    expect(ttl).toBeLessThanOrEqual(keep);
    expect(await h.redis.hget(key, 'secretHash')).toBe(hashToken(secret));
    for (const k of await scanKeys(h.redis, `${h.prefix}:*`)) {
      expect(k).not.toContain(secret);
      expect(await dumpKey(h.redis, k)).not.toContain(secret);
    }
  });

  it('answers the public id with a guessed or altered secret as an unknown link (404)', async () => {
    const { id, url } = (await post({ userId: 'user-guess', returnTo: RETURN_TO })).json();
    const secret = new URL(url).pathname.split('.')[1] as string;
    const altered = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    for (const path of [`/connect/${id}`, `/connect/${id}.${'A'.repeat(43)}`, `/connect/${id}.${altered}`]) {
      const res = await h.browser().get(path);
      expect(res.statusCode, path).toBe(404);
      expect(text(res.body)).toContain('GW_CONNECT_SESSION_NOT_FOUND');
    }
    // The real link still works afterwards.
    expect((await h.browser().get(new URL(url).pathname)).statusCode).toBe(303);
  });

  it('accepts any of the configured API keys', async () => {
    const res = await post(
      { userId: 'u', returnTo: RETURN_TO },
      { authorization: `Bearer other_key_${'x'.repeat(30)}` },
    );
    expect(res.statusCode).toBe(201);
  });

  it('refuses a request without an API key with 401 GW_UNAUTHORIZED', async () => {
    const res = await post({ userId: 'u', returnTo: RETURN_TO }, {});
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toEqual({ error: { code: 'GW_UNAUTHORIZED', message: expect.any(String) } });
  });

  it('refuses a wrong API key (and a Basic one) with 401 before reading the body', async () => {
    for (const authorization of [`Bearer ${API_KEY}x`, `Bearer ${API_KEY.slice(0, -1)}`, `Basic ${API_KEY}`]) {
      const res = await post('{not json', { authorization });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('GW_UNAUTHORIZED');
    }
  });

  it('refuses a returnTo outside the allowed origins with 400 GW_INVALID_RETURN_TO', async () => {
    for (const returnTo of [
      'https://evil.example.com/x',
      'https://app.example.com.evil.test/',
      'http://app.example.com/',
      '/relative/path',
      'javascript:alert(1)',
      'https://user:pw@app.example.com/',
      '',
    ]) {
      const res = await post({ userId: 'u', returnTo });
      expect(res.statusCode, returnTo).toBe(400);
      expect(res.json().error.code).toBe('GW_INVALID_RETURN_TO');
    }
  });

  it('refuses a missing returnTo or userId with 400 GW_VALIDATION naming the field', async () => {
    const noReturn = await post({ userId: 'u' });
    expect(noReturn.statusCode).toBe(400);
    expect(noReturn.json()).toEqual({ error: { code: 'GW_VALIDATION', message: 'returnTo is required' } });
    const noUser = await post({ returnTo: RETURN_TO });
    expect(noUser.json()).toEqual({ error: { code: 'GW_VALIDATION', message: 'userId is required' } });
  });

  it('says a field of the wrong type must be a string, not that it is missing', async () => {
    const res = await post({ userId: ['u'], returnTo: RETURN_TO });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'GW_VALIDATION', message: 'userId must be a string' } });
  });

  it('refuses an empty or oversize userId (256 characters) with 400, accepts 255', async () => {
    expect((await post({ userId: '', returnTo: RETURN_TO })).json().error.code).toBe('GW_VALIDATION');
    const over = await post({ userId: 'a'.repeat(256), returnTo: RETURN_TO });
    expect(over.statusCode).toBe(400);
    expect(over.json().error).toEqual({ code: 'GW_VALIDATION', message: 'userId must be at most 255 characters' });
    expect((await post({ userId: 'a'.repeat(255), returnTo: RETURN_TO })).statusCode).toBe(201);
  });

  it('refuses bad JSON, a non-object body and an unsupported content type with a stable code', async () => {
    const bad = await post('{"userId": ');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: { code: 'GW_INVALID_BODY', message: expect.any(String) } });
    const array = await post('[1,2]');
    expect(array.statusCode).toBe(400);
    expect(array.json().error.code).toBe('GW_VALIDATION');
    const form = await h.app.inject({
      method: 'POST',
      url: '/v1/connect-sessions',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().error.code).toBe('GW_UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a body over the size limit with 413 GW_BODY_TOO_LARGE', async () => {
    const res = await post({ userId: 'u', returnTo: RETURN_TO, padding: 'x'.repeat(20_000) });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('GW_BODY_TOO_LARGE');
  });
});

describe('the one-time connect link', () => {
  it('exchanges the link for a sealed HttpOnly cookie and redirects to the clean /connect page', async () => {
    const session = await h.createSession();
    const browser = h.browser();
    const res = await browser.get(new URL(session.url).pathname);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/connect');
    expect(res.headers['cache-control']).toBe('no-store');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^ttc_connect=v1\./);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    // Path=/ so that it also reaches the OAuth callback, where the state is checked against it.
    expect(setCookie).toMatch(/Path=\/(;|$)/);
    expect(setCookie).not.toContain(new URL(session.url).pathname.split('/')[2]);
    expect(setCookie).not.toContain(session.userId);

    const page = await browser.get('/connect');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['cache-control']).toBe('no-store');
    const t = text(page.body);
    expect(t).toContain('Your TikTok accounts');
    expect(t).toContain('No TikTok account is connected yet.');
    expect(page.body).toContain('>Connect a TikTok account</button>');
    expect(page.body).not.toContain('Add another account');
    expect(page.body).toMatch(/href="\/connect\/done\?csrf=[A-Za-z0-9_-]+">Done<\/a>/);
    expect(t).toContain(
      "Want to add a different TikTok account? On TikTok's page choose 'Use another account', or sign out of TikTok first.",
    );
  });

  it('sends the same browser on when it opens its link again', async () => {
    const { browser, url } = await h.openSession();
    const again = await browser.get(new URL(url).pathname);
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe('/connect');
  });

  it('refuses the link in a second browser with a friendly 410 GW_CONNECT_SESSION_USED page', async () => {
    const { url } = await h.openSession();
    const other = h.browser();
    const res = await other.get(new URL(url).pathname);
    expect(res.statusCode).toBe(410);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['set-cookie']).toBeUndefined();
    const t = text(res.body);
    expect(t).toContain('This link was already used');
    expect(t).toContain('GW_CONNECT_SESSION_USED');
    expect(res.body).toContain(`href="${RETURN_TO}"`);
    // The second browser got nothing it could use.
    expect((await other.get('/connect')).statusCode).toBe(401);
  });

  it('answers an unknown link with a 404 page and a malformed one too', async () => {
    for (const path of [
      `/connect/cs_${'A'.repeat(43)}`,
      `/connect/cs_${'A'.repeat(22)}.${'A'.repeat(43)}`,
      '/connect/cs_short',
      '/connect/whatever',
    ]) {
      const res = await h.browser().get(path);
      expect(res.statusCode, path).toBe(404);
      expect(text(res.body)).toContain('GW_CONNECT_SESSION_NOT_FOUND');
    }
  });

  it('answers an expired link with 410 GW_CONNECT_SESSION_EXPIRED', async () => {
    const session = await h.createSession();
    // Let Redis expire it for real.
    await h.redis.pexpire(`${h.prefix}:connect-session:${session.id}`, 1);
    await new Promise((r) => setTimeout(r, 20));
    const res = await h.browser().get(new URL(session.url).pathname);
    expect(res.statusCode).toBe(410);
    expect(text(res.body)).toContain('GW_CONNECT_SESSION_EXPIRED');
  });

  it('shows the connect page as expired once the session has expired, and clears the cookie', async () => {
    const { browser } = await h.openSession();
    h.advance((h.config.connectSessionTtlSeconds + 5) * 1000);
    try {
      const res = await browser.get('/connect');
      expect(res.statusCode).toBe(410);
      expect(text(res.body)).toContain('GW_CONNECT_SESSION_EXPIRED');
      expect(browser.cookies.has('ttc_connect')).toBe(false);
    } finally {
      h.advance(-(h.config.connectSessionTtlSeconds + 5) * 1000);
    }
  });

  it('refuses /connect without a session cookie or with a forged one (401 page)', async () => {
    const none = await h.browser().get('/connect');
    expect(none.statusCode).toBe(401);
    expect(text(none.body)).toContain('GW_CONNECT_SESSION_MISSING');
    const forged = await h.browser().get('/connect', { cookie: 'ttc_connect=v1.abc.def.ghi' });
    expect(forged.statusCode).toBe(401);
  });

  it('limits how often links can be tried (429 GW_RATE_LIMITED, Redis-backed)', async () => {
    const path = `/connect/cs_${'B'.repeat(43)}`;
    const codes: number[] = [];
    for (let i = 0; i < 62; i++) {
      const res = await h.app.inject({ method: 'GET', url: path, remoteAddress: '203.0.113.9' });
      codes.push(res.statusCode);
      if (res.statusCode === 429) {
        // A browser route: the refusal is a page, with the stable code on it.
        expect(res.headers['content-type']).toContain('text/html');
        expect(text(res.body)).toContain('GW_RATE_LIMITED');
      }
    }
    expect(codes.filter((c) => c === 404)).toHaveLength(60);
    expect(codes.slice(60)).toEqual([429, 429]);
    expect(await scanKeys(h.redis, `${h.prefix}:gateway-rate-limit:*`)).not.toHaveLength(0);
  });
});

describe('operations endpoints and headers', () => {
  it('GET /healthz answers 200', async () => {
    const res = await h.app.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 when Postgres and Redis answer', async () => {
    const res = await h.app.inject('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('GET /metrics serves Prometheus text with request timings by route pattern', async () => {
    await h.app.inject('/healthz');
    const res = await h.app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('gateway_http_request_duration_seconds_bucket');
    expect(res.body).toContain('route="/healthz"');
    expect(res.body).toContain('gateway_connect_sessions_created_total');
    expect(res.body).not.toMatch(/route="\/connect\/cs_/);
  });

  it('sets a strict CSP and security headers on pages and API responses', async () => {
    const { browser } = await h.openSession();
    const page = await browser.get('/connect');
    const api = await post({ userId: 'u', returnTo: RETURN_TO });
    for (const res of [page, api]) {
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain(`form-action 'self' ${new URL(h.sandbox.authUrl).origin}`);
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('script-src');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    expect(page.body).not.toMatch(/<script|style=|<style/i);
    const css = page.body.match(/href="(\/assets\/gateway\.[0-9a-f]{12}\.css)"/)?.[1];
    expect(css).toBeDefined();
    const sheet = await h.app.inject(css ?? '');
    expect(sheet.statusCode).toBe(200);
    expect(sheet.headers['content-type']).toContain('text/css');
    expect(sheet.headers['cache-control']).toContain('immutable');
  });

  it('keeps only Referrer-Policy, nosniff and no-store on the bodiless authorize redirect, and all headers on its error pages', async () => {
    const { browser } = await h.openSession();
    const redirect = await browser.get('/connect/tiktok');
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers['referrer-policy']).toBe('no-referrer');
    expect(redirect.headers['x-content-type-options']).toBe('nosniff');
    expect(redirect.headers['cache-control']).toBe('no-store');
    expect(redirect.headers['content-security-policy']).toBeUndefined();
    expect(redirect.headers['x-frame-options']).toBeUndefined();
    // Without a session the same route renders a page: it gets the document headers after all.
    const refused = await h.browser().get('/connect/tiktok');
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['content-type']).toContain('text/html');
    expect(String(refused.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(refused.headers['x-frame-options']).toBe('DENY');
    expect(refused.headers['x-content-type-options']).toBe('nosniff');
  });

  it('keeps HSTS on redirects when served over https', () => {
    const opts = { extraImageOrigins: [], formActionOrigins: ['https://www.tiktok.com'] };
    const https = redirectHeaders(computeSecurityHeaders({ ...opts, https: true }));
    expect(Object.keys(https).sort()).toEqual([
      'referrer-policy',
      'strict-transport-security',
      'x-content-type-options',
    ]);
    expect(https['strict-transport-security']).toContain('max-age=31536000');
    expect(redirectHeaders(computeSecurityHeaders({ ...opts, https: false }))).not.toHaveProperty(
      'strict-transport-security',
    );
  });

  it('answers unknown API paths with the JSON error shape and pages with an HTML 404', async () => {
    const api = await h.app.inject('/v1/nope');
    expect(api.statusCode).toBe(404);
    expect(api.json()).toEqual({ error: { code: 'GW_NOT_FOUND', message: expect.any(String) } });
    const page = await h.browser().get('/nope');
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('<html lang="en">');
  });

  it('answers / with a small JSON description outside development', async () => {
    const res = await h.app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: expect.any(String), docs: expect.any(String) });
    expect((await h.app.inject('/dev')).statusCode).toBe(404);
  });
});
