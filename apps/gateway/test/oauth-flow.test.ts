import { tokenAad } from '@ttc/accounts';
import { decryptToken, hashToken } from '@ttc/crypto';
import { pkceChallenge } from '@ttc/tiktok';
import { SANDBOX_USERS } from '@ttc/tiktok-sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrowserCookies } from '../src/services/browser-cookies.js';
import { OAuthStates } from '../src/services/oauth-state.js';
import {
  authorizeParams,
  type Browser,
  dumpKey,
  type Harness,
  runConnection,
  scanKeys,
  connectAndShow as showConnection,
  startHarness,
  text,
} from './harness.js';

let h: Harness;
/** The gateway's state codec, rebuilt from the same COOKIE_SECRET: lets tests forge and inspect states. */
let states: OAuthStates;
const user = (i: number) => {
  const u = SANDBOX_USERS[i];
  if (!u) throw new Error('the sandbox needs at least three users');
  return u;
};
const ava = user(0);
const ben = user(1);
const cleo = user(2);

beforeAll(async () => {
  h = await startHarness({ env: { CONNECT_OUTCOME_WAIT_MS: '1500' } });
  states = new OAuthStates(h.config.cookieSecret);
});

afterEach(async () => {
  await h.sandbox.control.clearFailures();
  if (h.worker.isPaused()) h.worker.resume();
});

afterAll(async () => {
  await h?.close();
});

/** Start → minted consent → callback, then follow to the connect page. */
async function connectAndShow(browser: Browser, openId: string, scopes?: string[]) {
  const shown = await showConnection(h, browser, openId, scopes);
  expect(String(shown.callback.headers.location)).toMatch(/^\/connect\?result=[0-9a-f-]{36}$/);
  expect(shown.page.statusCode).toBe(200);
  return shown;
}

async function rows(userId: string) {
  return h.db.prisma.socialAccount.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
}

describe('starting a connection', () => {
  it('redirects to TikTok with every parameter, TikTok-hex PKCE and a self-authenticating state, without Redis', async () => {
    const { browser } = await h.openSession();
    const res = await browser.get('/connect/tiktok');
    expect(res.statusCode).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(h.sandbox.authUrl);
    const q = location.searchParams;
    expect(q.get('client_key')).toBe(h.sandbox.clientKey);
    expect(q.get('redirect_uri')).toBe('http://gateway.test/auth/tiktok/callback');
    expect(q.get('response_type')).toBe('code');
    expect(q.get('scope')).toBe('user.info.basic,user.info.profile,video.list');
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}\.[0-9a-z]{1,11}\.[A-Za-z0-9_-]{22}$/);
    expect(q.get('disable_auto_auth')).toBe('1');
    expect(q.get('prompt')).toBe('select_account');
    expect(q.get('force_authentication')).toBe('true');
    expect(q.get('code_challenge')).toMatch(/^[0-9a-f]{64}$/);
    expect(q.get('code_challenge_method')).toBe('S256');
    // Expires 600 s from now (the session has longer left).
    const exp = Number.parseInt(q.get('state')!.split('.')[1]!, 36);
    expect(Math.abs(exp - (Math.floor(Date.now() / 1000) + 600))).toBeLessThanOrEqual(2);
    const nonce = q.get('state')!.split('.')[0]!;
    expect(await h.redis.exists(`${h.prefix}:oauth-state-used:${hashToken(nonce)}`)).toBe(0);
  });

  it('sets no cookie, and the PKCE verifier appears neither in the authorize URL nor in any cookie', async () => {
    const { browser } = await h.openSession();
    const cookiesBefore = new Map(browser.cookies);
    const res = await browser.get('/connect/tiktok');
    expect(res.statusCode).toBe(302);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(browser.cookies).toEqual(cookiesBefore);
    const q = authorizeParams(res);
    const nonce = q.get('state')!.split('.')[0]!;
    // The verifier is derived from the state's nonce with a key only the gateway has; the challenge proves it.
    const verifier = states.verifier(nonce);
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('code_challenge')).toBe(pkceChallenge(verifier));
    const location = String(res.headers.location);
    expect(location).not.toContain(verifier);
    expect(decodeURIComponent(location)).not.toContain(verifier);
    for (const c of browser.cookies.values()) expect(c.value).not.toContain(verifier);
  });

  it('never lets a state outlive the connect session it is bound to', async () => {
    const { browser } = await h.openSession();
    const ttl = h.config.connectSessionTtlSeconds;
    // 100 s before the session ends: the state gets those 100 s, not 600.
    const shift = (ttl - 100) * 1000;
    h.advance(shift);
    try {
      const state = authorizeParams(await browser.get('/connect/tiktok')).get('state')!;
      const exp = Number.parseInt(state.split('.')[1]!, 36);
      const sessionEnds = Math.floor((Date.now() + shift) / 1000) + 100;
      expect(Math.abs(exp - sessionEnds)).toBeLessThanOrEqual(2);
    } finally {
      h.advance(-shift);
    }
  });

  it('issues a fresh state and challenge on every start', async () => {
    const { browser } = await h.openSession();
    const a = authorizeParams(await browser.get('/connect/tiktok'));
    const b = authorizeParams(await browser.get('/connect/tiktok'));
    expect(a.get('state')).not.toBe(b.get('state'));
    expect(a.get('code_challenge')).not.toBe(b.get('code_challenge'));
  });

  it('refuses to start without a connect session (401 page)', async () => {
    const res = await h.browser().get('/connect/tiktok');
    expect(res.statusCode).toBe(401);
    expect(text(res.body)).toContain('GW_CONNECT_SESSION_MISSING');
  });
});

describe('the callback', () => {
  it('adds an account: row stored with encrypted tokens, page says "Added <name> (@username)"', async () => {
    const { browser, userId } = await h.openSession();
    const { callback, t, page } = await connectAndShow(browser, ava.openId);
    expect(callback.headers['referrer-policy']).toBe('no-referrer');
    expect(t).toContain(`Added ${ava.displayName} (@${ava.username})`);
    expect(page.body).toContain('role="status"');
    expect(page.body).toContain('>Add another account</button>');
    expect(page.body).not.toContain('Connect a TikTok account</button>');
    expect(t).toContain(ava.displayName);
    expect(t).toContain(`@${ava.username}`);
    expect(t).toContain('Active');
    expect(page.body).toMatch(/<img class="avatar" src="http[^"]+" alt="Profile picture of [^"]+"/);
    expect(page.body).toContain('>Disconnect</button>');

    const stored = await rows(userId);
    expect(stored).toHaveLength(1);
    const row = stored[0]!;
    expect(row.openId).toBe(ava.openId);
    expect(row.username).toBe(ava.username);
    expect(row.status).toBe('ACTIVE');
    expect(row.scopes).toEqual(expect.arrayContaining(['user.info.basic', 'user.info.profile']));
    const access = decryptToken(h.keyring, row.accessTokenCiphertext!, tokenAad({ userId, openId: ava.openId }));
    expect(access).toMatch(/^act\./);
  });

  it('says "reconnected" for the same account again, and keeps a single row', async () => {
    const { browser, userId } = await h.openSession();
    await connectAndShow(browser, ava.openId);
    const { t } = await connectAndShow(browser, ava.openId);
    expect(t).toContain(`${ava.displayName} (@${ava.username}) was already connected — we refreshed its connection.`);
    expect(t).toContain("on TikTok's page choose 'Use another account', or sign out of TikTok and try again.");
    expect(await rows(userId)).toHaveLength(1);
  });

  it('lists two accounts after connecting a second one', async () => {
    const { browser, userId } = await h.openSession();
    await connectAndShow(browser, ava.openId);
    const { t, page } = await connectAndShow(browser, ben.openId);
    expect(t).toContain(`Added ${ben.displayName} (@${ben.username})`);
    expect(t).toContain(ava.displayName);
    expect(page.body.match(/<li class="account"/g)).toHaveLength(2);
    expect(await rows(userId)).toHaveLength(2);
  });

  it('keeps different users apart: the same TikTok account for two upstream users is two rows', async () => {
    const one = await h.openSession();
    const two = await h.openSession();
    await connectAndShow(one.browser, cleo.openId);
    const { t } = await connectAndShow(two.browser, cleo.openId);
    expect(t).toContain(`Added ${cleo.displayName}`);
    expect(await rows(one.userId)).toHaveLength(1);
    expect(await rows(two.userId)).toHaveLength(1);
  });

  it('refuses a replayed callback with 400 GW_STATE_REPLAYED', async () => {
    const { browser } = await h.openSession();
    const params = authorizeParams(await browser.get('/connect/tiktok'));
    const minted = await h.sandbox.control.mintCode({
      openId: ava.openId,
      redirectUri: params.get('redirect_uri')!,
      codeChallenge: params.get('code_challenge')!,
    });
    const url = `/auth/tiktok/callback?code=${minted.code}&state=${params.get('state')}&scopes=${minted.scopes}`;
    expect((await browser.get(url)).statusCode).toBe(303);
    // The same browser (connect cookie still present) sends the very same callback again.
    const replay = await browser.get(url);
    expect(replay.statusCode).toBe(400);
    expect(replay.headers['referrer-policy']).toBe('no-referrer');
    expect(text(replay.body)).toContain('GW_STATE_REPLAYED');
  });

  it('refuses an expired state with 400 GW_STATE_EXPIRED', async () => {
    const { browser } = await h.openSession();
    const start = await browser.get('/connect/tiktok');
    const params = authorizeParams(start);
    const minted = await h.sandbox.control.mintCode({
      openId: ava.openId,
      redirectUri: params.get('redirect_uri')!,
      codeChallenge: params.get('code_challenge')!,
    });
    h.advance(601_000);
    try {
      const res = await browser.get(`/auth/tiktok/callback?code=${minted.code}&state=${params.get('state')}`);
      expect(res.statusCode).toBe(400);
      expect(text(res.body)).toContain('GW_STATE_EXPIRED');
    } finally {
      h.advance(-601_000);
    }
  });

  it('refuses an expired state whose connect cookie the browser has already dropped: "expired", not "other browser"', async () => {
    const { browser } = await h.openSession();
    const state = authorizeParams(await browser.get('/connect/tiktok')).get('state');
    browser.cookies.delete('ttc_connect');
    h.advance(601_000);
    try {
      const res = await browser.get(`/auth/tiktok/callback?code=abc&state=${state}`);
      expect(res.statusCode).toBe(400);
      expect(text(res.body)).toContain('GW_STATE_EXPIRED');
    } finally {
      h.advance(-601_000);
    }
  });

  it('refuses a callback in a browser without a connect cookie: "started in another browser"', async () => {
    const { browser } = await h.openSession();
    const params = authorizeParams(await browser.get('/connect/tiktok'));
    const res = await h.browser().get(`/auth/tiktok/callback?code=abc&state=${params.get('state')}`);
    expect(res.statusCode).toBe(400);
    expect(text(res.body)).toContain('GW_STATE_BROWSER_MISMATCH');
    expect(text(res.body)).toContain('started in another browser');
  });

  it('refuses the state of another browser presented by a browser with its own session, without burning it', async () => {
    const victim = await h.openSession();
    const attacker = await h.openSession();
    const params = authorizeParams(await victim.browser.get('/connect/tiktok'));
    const minted = await h.sandbox.control.mintCode({
      openId: ava.openId,
      redirectUri: params.get('redirect_uri')!,
      codeChallenge: params.get('code_challenge')!,
    });
    const url = `/auth/tiktok/callback?code=${minted.code}&state=${params.get('state')}&scopes=${minted.scopes}`;
    const res = await attacker.browser.get(url);
    expect(res.statusCode).toBe(400);
    expect(text(res.body)).toContain('GW_STATE_BROWSER_MISMATCH');
    expect(await rows(attacker.userId)).toHaveLength(0);
    // Refused before single use is recorded: the browser that started it can still finish.
    expect((await victim.browser.get(url)).statusCode).toBe(303);
  });

  it('refuses a state issued to this browser for an earlier connect session (its MAC names another session)', async () => {
    const { browser } = await h.openSession();
    const state = authorizeParams(await browser.get('/connect/tiktok')).get('state');
    // The app sends the user through a new link: the connect cookie now holds another session.
    const next = await h.createSession();
    expect((await browser.get(new URL(next.url).pathname)).statusCode).toBe(303);
    const res = await browser.get(`/auth/tiktok/callback?code=abc&state=${state}`);
    expect(res.statusCode).toBe(400);
    expect(text(res.body)).toContain('GW_STATE_BROWSER_MISMATCH');
  });

  it('refuses a state whose MAC was made for another browser id in the same session', async () => {
    const { browser } = await h.openSession();
    const state = authorizeParams(await browser.get('/connect/tiktok')).get('state')!;
    const [nonce, exp] = state.split('.') as [string, string];
    const cookie = new BrowserCookies(h.config.cookieSecret, { secure: false }).openConnect(
      browser.cookies.get('ttc_connect')!.value,
      Date.now(),
    );
    if (typeof cookie !== 'object') throw new Error(`connect cookie: ${cookie}`);
    const forged = states.issue(nonce, Number.parseInt(exp, 36), {
      sr: cookie.sr,
      bid: 'another-browser-id-0123456789',
    });
    const res = await browser.get(`/auth/tiktok/callback?code=abc&state=${forged}`);
    expect(res.statusCode).toBe(400);
    expect(text(res.body)).toContain('GW_STATE_BROWSER_MISMATCH');
  });

  it('refuses a tampered state: any changed nonce, expiry or MAC character breaks the MAC', async () => {
    const { browser } = await h.openSession();
    const state = authorizeParams(await browser.get('/connect/tiktok')).get('state')!;
    const [nonce, exp, mac] = state.split('.') as [string, string, string];
    const flip = (s: string, i: number) => `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
    const earlier = (Number.parseInt(exp, 36) - 1).toString(36);
    for (const tampered of [
      `${flip(nonce, 5)}.${exp}.${mac}`,
      `${nonce}.${earlier}.${mac}`,
      `${nonce}.${exp}.${flip(mac, 21)}`,
    ]) {
      const res = await browser.get(`/auth/tiktok/callback?code=abc&state=${tampered}`);
      expect(res.statusCode, tampered).toBe(400);
      expect(text(res.body)).toContain('GW_STATE_BROWSER_MISMATCH');
    }
    // Refused before single use is recorded.
    expect(await h.redis.exists(`${h.prefix}:oauth-state-used:${hashToken(nonce)}`)).toBe(0);
  });

  it('refuses a state claiming an expiry the gateway never issues with 400 GW_STATE_INVALID', async () => {
    const { browser } = await h.openSession();
    const state = authorizeParams(await browser.get('/connect/tiktok')).get('state')!;
    const [nonce, exp, mac] = state.split('.') as [string, string, string];
    const later = (Number.parseInt(exp, 36) + 86_400).toString(36);
    const res = await browser.get(`/auth/tiktok/callback?code=abc&state=${nonce}.${later}.${mac}`);
    expect(res.statusCode).toBe(400);
    expect(text(res.body)).toContain('GW_STATE_INVALID');
  });

  it('completes two sign-ins started in two tabs of the same browser, in either order', async () => {
    const { browser, userId } = await h.openSession();
    const first = authorizeParams(await browser.get('/connect/tiktok'));
    const second = authorizeParams(await browser.get('/connect/tiktok'));
    for (const [params, openId] of [
      [second, ben.openId],
      [first, ava.openId],
    ] as const) {
      const minted = await h.sandbox.control.mintCode({
        openId,
        redirectUri: params.get('redirect_uri')!,
        codeChallenge: params.get('code_challenge')!,
      });
      const res = await browser.get(
        `/auth/tiktok/callback?code=${minted.code}&state=${params.get('state')}&scopes=${minted.scopes}`,
      );
      expect(res.statusCode, res.body).toBe(303);
      await browser.get(String(res.headers.location));
    }
    await expect.poll(async () => (await rows(userId)).length).toBe(2);
  });

  it('answers a malformed callback with 400 GW_CALLBACK_INVALID', async () => {
    const { browser } = await h.openSession();
    const state = authorizeParams(await browser.get('/connect/tiktok')).get('state')!;
    for (const query of [
      '',
      '?state=abc',
      '?code=a&code=b&state=x',
      '?code=&state=x',
      '?code=a&state=not-a-state',
      `?code=a&state=${state.split('.')[0]}`,
      `?code=a&state=${state}.x`,
      '?error=access_denied',
    ]) {
      const res = await browser.get(`/auth/tiktok/callback${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(text(res.body)).toContain('GW_CALLBACK_INVALID');
    }
  });

  it('shows "denied" when the user cancels on TikTok, and connects nothing', async () => {
    const { browser, userId } = await h.openSession();
    const state = authorizeParams(await browser.get('/connect/tiktok')).get('state');
    const res = await browser.get(
      `/auth/tiktok/callback?error=access_denied&error_description=User+cancelled&state=${state}`,
    );
    expect(res.statusCode).toBe(303);
    const page = await browser.follow(res);
    expect(text(page.body)).toContain('You cancelled on TikTok. Nothing was connected.');
    expect(await rows(userId)).toHaveLength(0);
  });

  it('shows "failed" with a human reason for other authorize errors', async () => {
    const { browser } = await h.openSession();
    const state = authorizeParams(await browser.get('/connect/tiktok')).get('state');
    const page = await browser.follow(
      await browser.get(`/auth/tiktok/callback?error=server_error&error_description=%3Cb%3Eboom&state=${state}`),
    );
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('role="alert"');
    expect(text(page.body)).toContain('TikTok had a problem on its side');
    expect(page.body).not.toContain('<b>boom');
  });

  for (const [kind, reason] of [
    ['error_200', 'TikTok had a problem on its side'],
    ['http_500', 'TikTok had a problem on its side'],
    ['invalid_grant', 'expired or was already used'],
    ['drop', 'could not reach TikTok'],
  ] as const) {
    it(`shows "failed", never a 500, when the token exchange answers ${kind}`, async () => {
      const { browser, userId } = await h.openSession();
      await h.sandbox.control.injectFailure({ endpoint: 'token', kind });
      const res = await runConnection(h, browser, ava.openId);
      expect(res.statusCode).toBe(303);
      const page = await browser.follow(res);
      expect(page.statusCode).toBe(200);
      expect(text(page.body)).toContain('The account could not be connected.');
      expect(text(page.body)).toContain(reason);
      expect(await rows(userId)).toHaveLength(0);
    });
  }

  it('shows "failed" when the token exchange takes longer than the timeout', async () => {
    const { browser } = await h.openSession();
    await h.sandbox.control.injectFailure({ endpoint: 'token', kind: 'latency', latencyMs: 2500 });
    const started = Date.now();
    const res = await runConnection(h, browser, ava.openId);
    expect(Date.now() - started).toBeLessThan(2400);
    const page = await browser.follow(res);
    expect(text(page.body)).toContain('TikTok took too long to answer');
  });

  it('shows "failed" when reading the profile fails', async () => {
    const { browser } = await h.openSession();
    await h.sandbox.control.injectFailure({ endpoint: 'userinfo', kind: 'http_500' });
    const page = await browser.follow(await runConnection(h, browser, ava.openId));
    expect(text(page.body)).toContain('The account could not be connected.');
  });

  it('shows "failed" when TikTok did not grant the profile permission', async () => {
    const { browser, userId } = await h.openSession();
    const page = await browser.follow(await runConnection(h, browser, ava.openId, ['video.list']));
    expect(text(page.body)).toContain('TikTok did not grant the permission to read your profile — please allow it');
    expect(await rows(userId)).toHaveLength(0);
  });

  it('connects without @username when user.info.profile was not granted', async () => {
    const { browser } = await h.openSession();
    const { t } = await connectAndShow(browser, ben.openId, ['user.info.basic']);
    expect(t).toContain(`Added ${ben.displayName}`);
    expect(t).not.toContain(`@${ben.username}`);
  });

  it('shows "Adding your account…" with a 2-second refresh while the worker is slow, then the outcome', async () => {
    const { browser } = await h.openSession();
    await h.worker.pause();
    const res = await runConnection(h, browser, cleo.openId);
    const waiting = await browser.get(String(res.headers.location));
    expect(waiting.statusCode).toBe(200);
    expect(text(waiting.body)).toContain('Adding your account…');
    expect(waiting.body).toContain('<meta http-equiv="refresh" content="2">');
    h.worker.resume();
    const done = await browser.get(String(res.headers.location));
    expect(text(done.body)).toContain(`Added ${cleo.displayName}`);
    expect(done.body).not.toContain('http-equiv="refresh"');
  });

  it('never shows an outcome to another session, even with the result id', async () => {
    const owner = await h.openSession();
    const other = await h.openSession();
    const res = await runConnection(h, owner.browser, ava.openId);
    await owner.browser.get(String(res.headers.location));
    const peek = await other.browser.get(String(res.headers.location));
    expect(peek.statusCode).toBe(200);
    expect(text(peek.body)).not.toContain(ava.displayName);
    expect(text(peek.body)).not.toContain('Added');
  });

  it('leaves no token in clear anywhere in Redis after connections', async () => {
    const { browser, userId } = await h.openSession();
    await connectAndShow(browser, ben.openId);
    const [row] = await rows(userId);
    const aad = tokenAad({ userId, openId: ben.openId });
    const access = decryptToken(h.keyring, row!.accessTokenCiphertext!, aad);
    const refresh = decryptToken(h.keyring, row!.refreshTokenCiphertext!, aad);
    const keys = await scanKeys(h.redis, `${h.prefix}:*`);
    expect(keys.some((k) => k.includes(':connect-session:'))).toBe(true);
    for (const key of keys) {
      const value = await dumpKey(h.redis, key);
      expect(value, key).not.toContain(access);
      expect(value, key).not.toContain(refresh);
      expect(value, key).not.toMatch(/\b(act|rft)\.[A-Za-z0-9]/);
    }
    for (const c of browser.cookies.values()) {
      expect(c.value).not.toContain(access);
    }
  });
});

describe('disconnecting', () => {
  it('asks for confirmation, then disconnects with the CSRF token and shows the account as disconnected', async () => {
    const { browser, userId } = await h.openSession();
    const { page } = await connectAndShow(browser, ava.openId);
    const form = page.body.match(
      /<form class="inline" method="post" action="([^"]+)">\s*<input type="hidden" name="csrf" value="([^"]+)">/,
    );
    expect(form).not.toBeNull();
    const [, action, csrf] = form!;

    const confirm = await browser.post(action!, { csrf: csrf! });
    expect(confirm.statusCode).toBe(200);
    expect(text(confirm.body)).toContain(`Disconnect ${ava.displayName} (@${ava.username})?`);
    expect(confirm.body).toContain('>Yes, disconnect</button>');
    expect((await rows(userId))[0]!.status).toBe('ACTIVE');

    const done = await browser.post(action!, { csrf: csrf!, confirm: 'yes' });
    expect(done.statusCode).toBe(303);
    const after = await browser.follow(done);
    expect(text(after.body)).toContain(`Disconnected ${ava.displayName}`);
    expect(text(after.body)).toContain('Disconnected');
    expect(after.body).toContain('>Connect a TikTok account</button>');
    const [row] = await rows(userId);
    expect(row!.status).toBe('DISCONNECTED');
    expect(row!.accessTokenCiphertext).toBeNull();
  });

  it('refuses a disconnect without a valid CSRF token (403) and leaves the account alone', async () => {
    const { browser, userId } = await h.openSession();
    const { page } = await connectAndShow(browser, ben.openId);
    const action = page.body.match(/action="(\/connect\/accounts\/[^"]+\/disconnect)"/)![1]!;
    for (const form of [{ confirm: 'yes' }, { csrf: 'nope', confirm: 'yes' }]) {
      const res = await browser.post(action, form as Record<string, string>);
      expect(res.statusCode).toBe(403);
      expect(text(res.body)).toContain('GW_CSRF_INVALID');
    }
    expect((await rows(userId))[0]!.status).toBe('ACTIVE');
  });

  it("refuses to disconnect another user's account (404, as if it did not exist)", async () => {
    const owner = await h.openSession();
    const intruder = await h.openSession();
    await connectAndShow(owner.browser, cleo.openId);
    const [row] = await rows(owner.userId);
    const page = await intruder.browser.get('/connect');
    const csrf = page.body.match(/name="csrf" value="([^"]+)"/)?.[1];
    // No account on the intruder's page: take the token from a fresh render of its confirm-less form.
    const token = csrf ?? (await tokenFor(intruder.browser));
    const res = await intruder.browser.post(`/connect/accounts/${row!.id}/disconnect`, { csrf: token, confirm: 'yes' });
    expect(res.statusCode).toBe(404);
    expect(text(res.body)).toContain('GW_ACCOUNT_NOT_FOUND');
    expect((await rows(owner.userId))[0]!.status).toBe('ACTIVE');
  });
});

/** The CSRF token of a browser's session, read from its page once it has an account to show. */
async function tokenFor(browser: Browser): Promise<string> {
  const res = await runConnection(h, browser, ben.openId);
  // The result URL waits for the worker, so the account (and its form) is on the page.
  const page = await browser.get(String(res.headers.location));
  return page.body.match(/name="csrf" value="([^"]+)"/)![1]!;
}
