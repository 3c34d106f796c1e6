// The gateway's secrets at the edges: warn logs without stacks, COOKIE_SECRET rotation, named API keys.
import { randomBytes } from 'node:crypto';
import { tiktokClientOptions } from '@ttc/config';
import { createTikTokClient } from '@ttc/tiktok';
import { SANDBOX_USERS } from '@ttc/tiktok-sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../src/app.js';
import { BrowserCookies } from '../src/services/browser-cookies.js';
import {
  API_KEY,
  authorizeParams,
  Browser,
  connectAndShow,
  type Harness,
  RETURN_TO,
  runConnection,
  startHarness,
  text,
} from './harness.js';

const BILLING_KEY = `gw_billing_${randomBytes(16).toString('hex')}`;
const OLD_SECRET = randomBytes(32).toString('base64url');
const NEW_SECRET = randomBytes(32).toString('base64url');
const ava = SANDBOX_USERS[0]!;
const ben = SANDBOX_USERS[1]!;

let h: Harness;
const logLines: string[] = [];

beforeAll(async () => {
  // A named key first, then the harness's bare key (second position: named `key-2`).
  h = await startHarness({
    logLines,
    env: { GATEWAY_API_KEYS: `billing:${BILLING_KEY},${API_KEY}`, COOKIE_SECRET: OLD_SECRET },
  });
});
afterEach(async () => {
  await h.sandbox.control.clearFailures();
});
afterAll(async () => {
  await h?.close();
});

const parsed = () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('warn-level logs', () => {
  it('carry the code and message of a failed code exchange, not its stack', async () => {
    for (const kind of ['drop', 'http_500'] as const) {
      const { browser } = await h.openSession();
      await h.sandbox.control.injectFailure({ endpoint: 'token', kind });
      const page = await browser.follow(await runConnection(h, browser, ava.openId));
      expect(text(page.body)).toContain('The account could not be connected.');
    }
    const warnings = parsed().filter((l) => l.msg === 'TikTok code exchange failed');
    expect(warnings).toHaveLength(2);
    for (const line of warnings) {
      expect(line.level).toBe(40);
      const err = line.error as Record<string, unknown>;
      expect(err.type).toBe('TikTokError');
      expect(err.code).toMatch(/^TIKTOK_/);
      expect(typeof err.message).toBe('string');
      expect(JSON.stringify(line)).not.toContain('"stack"');
      expect(JSON.stringify(line)).not.toMatch(/\s+at\s+\S+\s+\(/);
    }
    expect(warnings.map((l) => (l.error as { code: string }).code).sort()).toEqual([
      'TIKTOK_NETWORK_ERROR',
      'TIKTOK_SERVER_ERROR',
    ]);
    // No warn line of this gateway carries a stack.
    for (const line of parsed().filter((l) => l.level === 40)) expect(JSON.stringify(line)).not.toContain('"stack"');
  });
});

describe('named gateway API keys', () => {
  it('name the key (never the key itself) in the request log, the metrics and the account events', async () => {
    const userId = `user-named-${randomBytes(4).toString('hex')}`;
    const created = await h.app.inject({
      method: 'POST',
      url: '/v1/connect-sessions',
      headers: { authorization: `Bearer ${BILLING_KEY}` },
      payload: { userId, returnTo: RETURN_TO },
    });
    expect(created.statusCode).toBe(201);
    const browser = h.browser();
    expect((await browser.get(new URL(created.json<{ url: string }>().url).pathname)).statusCode).toBe(303);
    const { t } = await connectAndShow(h, browser, ben.openId);
    expect(t).toContain(`Added ${ben.displayName}`);

    const account = await h.db.prisma.socialAccount.findFirstOrThrow({ where: { userId } });
    // Disconnected with the other key: its event names that one.
    const disconnected = await h.app.inject({
      method: 'DELETE',
      url: `/v1/accounts/${account.id}`,
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(disconnected.statusCode).toBe(200);
    const events = await h.db.prisma.accountEvent.findMany({
      where: { accountId: account.id },
      orderBy: { id: 'asc' },
    });
    expect(events.find((e) => e.type === 'CONNECTED')?.data).toMatchObject({ apiKey: 'billing' });
    expect(events.find((e) => e.type === 'DISCONNECTED')?.data).toMatchObject({ actor: 'upstream', apiKey: 'key-2' });

    const requests = parsed().filter((l) => l.msg === 'request completed');
    const line = (method: string, url: string) =>
      requests.filter((l) => {
        const req = l.req as { method: string; url: string };
        return req.method === method && req.url === url;
      });
    expect(line('POST', '/v1/connect-sessions').map((l) => (l.req as { apiKey?: string }).apiKey)).toContain('billing');
    expect(line('DELETE', `/v1/accounts/${account.id}`).map((l) => (l.req as { apiKey?: string }).apiKey)).toEqual([
      'key-2',
    ]);
    // Browser requests have no key.
    expect(
      requests.some((l) => (l.req as { url: string }).url === '/connect' && !('apiKey' in (l.req as object))),
    ).toBe(true);

    const metrics = (await h.app.inject('/metrics')).body;
    expect(metrics).toContain(
      'gateway_api_key_requests_total{key_name="billing",method="POST",route="/v1/connect-sessions",status_code="201"} 1',
    );
    expect(metrics).toContain(
      'gateway_api_key_requests_total{key_name="key-2",method="DELETE",route="/v1/accounts/:id",status_code="200"} 1',
    );
    for (const output of [metrics, logLines.join('\n'), JSON.stringify(events.map((e) => e.data))]) {
      expect(output).not.toContain(BILLING_KEY);
      expect(output).not.toContain(API_KEY);
    }
  });

  it('refuses a named key presented with its name, and a wrong key, as before', async () => {
    for (const bearer of [`billing:${BILLING_KEY}`, `${BILLING_KEY}x`]) {
      const res = await h.app.inject({
        method: 'GET',
        url: '/v1/users/someone/accounts',
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(res.statusCode).toBe(401);
    }
  });
});

describe('COOKIE_SECRET rotation', () => {
  it('keeps browsers mid-connect working when a new secret is put first; new cookies are sealed with it', async () => {
    // Before the rotation: a browser holds a connect cookie and a state issued under the old secret.
    const before = await h.openSession();
    const start = await before.browser.get('/connect/tiktok');
    const params = authorizeParams(start);

    const rotated = await buildGateway({
      config: { ...h.config, cookieSecret: NEW_SECRET, cookieSecrets: [NEW_SECRET, OLD_SECRET] },
      prisma: h.db.prisma,
      redis: h.redis,
      queues: h.queues,
      tiktok: createTikTokClient(tiktokClientOptions(h.config.tiktok)),
      keyring: h.keyring,
      logger: false,
    });
    try {
      const browser = new Browser(rotated);
      for (const [name, cookie] of before.browser.cookies) browser.cookies.set(name, cookie);
      expect((await browser.get('/connect')).statusCode).toBe(200);
      // The state (and its PKCE verifier) from before the rotation completes the connection.
      const minted = await h.sandbox.control.mintCode({
        openId: ava.openId,
        redirectUri: params.get('redirect_uri') ?? '',
        scopes: ['user.info.basic', 'user.info.profile'],
        codeChallenge: params.get('code_challenge') ?? '',
      });
      const query = new URLSearchParams({ code: minted.code, scopes: minted.scopes, state: params.get('state') ?? '' });
      const callback = await browser.get(`/auth/tiktok/callback?${query}`);
      expect(callback.statusCode).toBe(303);
      const page = await browser.follow(callback);
      expect(text(page.body)).toContain(ava.displayName);
      expect(text(page.body)).not.toContain('could not be connected');

      // A link opened after the rotation: its cookie is sealed with the new secret alone.
      const session = await rotated.inject({
        method: 'POST',
        url: '/v1/connect-sessions',
        headers: { authorization: `Bearer ${API_KEY}` },
        payload: { userId: `user-rotated-${randomBytes(4).toString('hex')}`, returnTo: RETURN_TO },
      });
      const fresh = new Browser(rotated);
      expect((await fresh.get(new URL(session.json<{ url: string }>().url).pathname)).statusCode).toBe(303);
      const sealed = [...fresh.cookies.values()][0]?.value ?? '';
      const now = Date.now();
      expect(typeof new BrowserCookies([NEW_SECRET], { secure: false }).openConnect(sealed, now)).toBe('object');
      expect(new BrowserCookies([OLD_SECRET], { secure: false }).openConnect(sealed, now)).toBe('invalid');
      // Once the old secret is dropped, a cookie sealed with it is refused.
      const oldCookie = [...before.browser.cookies.values()][0]?.value ?? '';
      expect(new BrowserCookies([NEW_SECRET], { secure: false }).openConnect(oldCookie, now)).toBe('invalid');
      expect(typeof new BrowserCookies([NEW_SECRET, OLD_SECRET], { secure: false }).openConnect(oldCookie, now)).toBe(
        'object',
      );
    } finally {
      await rotated.close();
    }
  });

  it('accepts a disconnect form rendered before the rotation (CSRF under the old secret)', async () => {
    const { browser } = await h.openSession();
    await connectAndShow(h, browser, ben.openId);
    const form = (await browser.get('/connect')).body;
    const csrf = /name="csrf" value="([^"]+)"/.exec(form)?.[1];
    const action = /action="(\/connect\/accounts\/[^"]+\/disconnect)"/.exec(form)?.[1];
    expect(csrf).toBeDefined();
    expect(action).toBeDefined();
    const rotated = await buildGateway({
      config: { ...h.config, cookieSecret: NEW_SECRET, cookieSecrets: [NEW_SECRET, OLD_SECRET] },
      prisma: h.db.prisma,
      redis: h.redis,
      queues: h.queues,
      tiktok: createTikTokClient(tiktokClientOptions(h.config.tiktok)),
      keyring: h.keyring,
      logger: false,
    });
    try {
      const after = new Browser(rotated);
      for (const [name, cookie] of browser.cookies) after.cookies.set(name, cookie);
      const res = await after.post(action ?? '', { csrf: csrf ?? '', confirm: 'yes' });
      expect(res.statusCode).toBeLessThan(400);
      const forged = await after.post(action ?? '', { csrf: `${csrf}x`, confirm: 'yes' });
      expect(forged.statusCode).toBeGreaterThanOrEqual(400);
    } finally {
      await rotated.close();
    }
  });
});
