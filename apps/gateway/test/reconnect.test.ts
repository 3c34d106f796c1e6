// Reconnect sessions: POST /v1/connect-sessions with reconnectAccountId, the page's "Reconnect" buttons, and what the
// page says when TikTok returns the account asked for, or another one.
import { randomUUID } from 'node:crypto';
import { SANDBOX_USERS } from '@ttc/tiktok-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  authorizeParams,
  type Browser,
  connectAndShow,
  type Harness,
  RETURN_TO,
  startHarness,
  text,
} from './harness.js';

let h: Harness;
const [ava, ben] = SANDBOX_USERS as [(typeof SANDBOX_USERS)[0], (typeof SANDBOX_USERS)[0]];

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

function csrfOf(body: string): string {
  // Every page has one, in its forms and in its "Done" link.
  const token = /(?:name="csrf" value="|\/connect\/done\?csrf=)([A-Za-z0-9_-]+)/.exec(body)?.[1];
  if (!token) throw new Error('no CSRF token on the page');
  return token;
}

/** Clicks "Reconnect" for an account, signs in on TikTok as `openId`, and follows back to the page. */
async function reconnectAs(browser: Browser, accountId: string, openId: string) {
  const csrf = csrfOf((await browser.get('/connect')).body);
  const start = await browser.post(`/connect/accounts/${accountId}/reconnect`, { csrf });
  expect(start.statusCode, start.body).toBe(303);
  const params = authorizeParams(start);
  expect(params.get('disable_auto_auth')).toBe('1');
  const minted = await h.sandbox.control.mintCode({
    openId,
    redirectUri: params.get('redirect_uri') ?? '',
    scopes: ['user.info.basic', 'user.info.profile', 'video.list'],
    codeChallenge: params.get('code_challenge') ?? '',
  });
  const query = new URLSearchParams({ code: minted.code, scopes: minted.scopes, state: params.get('state') ?? '' });
  const callback = await browser.get(`/auth/tiktok/callback?${query}`);
  let page = await browser.get(String(callback.headers.location));
  for (let i = 0; i < 10 && page.body.includes('http-equiv="refresh"'); i++) {
    page = await browser.get(String(callback.headers.location));
  }
  return { page, t: text(page.body) };
}

/** A user with ava connected, then needing re-authorization. */
async function userNeedingReauth() {
  const session = await h.openSession();
  await connectAndShow(h, session.browser, ava.openId);
  const row = await h.db.prisma.socialAccount.findFirstOrThrow({ where: { userId: session.userId } });
  await h.db.prisma.socialAccount.update({
    where: { id: row.id },
    data: { status: 'REAUTH_REQUIRED', accessTokenCiphertext: null, refreshTokenCiphertext: null },
  });
  return { ...session, accountId: row.id };
}

describe('POST /v1/connect-sessions with reconnectAccountId', () => {
  it('offers "Reconnect @name" first, and reconnecting the same account says so and makes it active', async () => {
    const { userId, accountId } = await userNeedingReauth();
    const { browser } = await h.openSession(userId, { reconnectAccountId: accountId });
    const page = await browser.get('/connect');
    const t = text(page.body);
    expect(t).toContain(`Reconnect ${ava.displayName} (@${ava.username})`);
    expect(page.body).toContain(`action="/connect/accounts/${accountId}/reconnect"`);
    expect(page.body).toContain(`>Reconnect @${ava.username}</button>`);

    const back = await reconnectAs(browser, accountId, ava.openId);
    expect(back.t).toContain(`Reconnected ${ava.displayName} (@${ava.username})`);
    const row = await h.db.prisma.socialAccount.findUniqueOrThrow({ where: { id: accountId } });
    expect(row.status).toBe('ACTIVE');
    expect(row.accessTokenCiphertext).not.toBeNull();
  });

  it('says which account came back when TikTok returns another one, and that it was added, merging nothing', async () => {
    const { userId, accountId } = await userNeedingReauth();
    const { browser, id } = await h.openSession(userId, { reconnectAccountId: accountId });
    const { t, page } = await reconnectAs(browser, accountId, ben.openId);
    expect(t).toContain(
      `TikTok returned ${ben.displayName} (@${ben.username}), not ${ava.displayName} (@${ava.username}).`,
    );
    expect(t).toContain(`${ben.displayName} (@${ben.username}) was added as another account.`);
    expect(page.body).toContain('role="alert"');
    const rows = await h.db.prisma.socialAccount.findMany({ where: { userId }, orderBy: { openId: 'asc' } });
    expect(rows.map((r) => [r.openId, r.status])).toEqual([
      [ava.openId, 'REAUTH_REQUIRED'],
      [ben.openId, 'ACTIVE'],
    ]);
    // The session's results say the same to the upstream app.
    const results = (await api(h, 'GET', `/v1/connect-sessions/${id}`)).json().results;
    expect(results).toEqual([expect.objectContaining({ openId: ben.openId, outcome: 'added' })]);

    // Another one that was already connected: "already connected", still not the one asked for.
    const again = await reconnectAs(browser, accountId, ben.openId);
    expect(again.t).toContain(`TikTok returned ${ben.displayName} (@${ben.username}), not ${ava.displayName}`);
    expect(again.t).toContain('was already connected');
  });

  it('refuses an account of another user, an unknown one and a malformed one with 404 GW_ACCOUNT_NOT_FOUND', async () => {
    const { accountId } = await userNeedingReauth();
    for (const reconnectAccountId of [accountId, randomUUID(), 'not-a-uuid']) {
      const res = await api(h, 'POST', '/v1/connect-sessions', {
        userId: `someone-else-${randomUUID()}`,
        returnTo: RETURN_TO,
        reconnectAccountId,
      });
      expect(res.statusCode, reconnectAccountId).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'GW_ACCOUNT_NOT_FOUND', message: expect.any(String) } });
    }
  });

  it('refuses a reconnectAccountId that is not a string with 400 GW_VALIDATION', async () => {
    for (const reconnectAccountId of [42, null, ['x'], 'x'.repeat(101)]) {
      const res = await api(h, 'POST', '/v1/connect-sessions', {
        userId: 'u1',
        returnTo: RETURN_TO,
        reconnectAccountId,
      });
      expect(res.statusCode, JSON.stringify(reconnectAccountId)).toBe(400);
      expect(res.json().error.code).toBe('GW_VALIDATION');
    }
  });
});

describe('REAUTH_REQUIRED accounts on the page', () => {
  it('shows a "Reconnect" button in any session, which starts the same TikTok authorization', async () => {
    const { browser, accountId } = await userNeedingReauth();
    const page = await browser.get('/connect');
    expect(text(page.body)).toContain('Needs reconnecting');
    expect(page.body).toContain(`aria-label="Reconnect @${ava.username}">Reconnect</button>`);
    // No session-level offer without reconnectAccountId.
    expect(page.body).not.toContain('id="reconnect-title"');
    const back = await reconnectAs(browser, accountId, ava.openId);
    expect(back.t).toContain(`Reconnected ${ava.displayName}`);
    expect(back.page.body).not.toContain('>Reconnect</button>');
  });

  it("refuses to reconnect another user's account (404) and a form without the CSRF token (403)", async () => {
    const victim = await userNeedingReauth();
    const intruder = await h.openSession();
    const csrf = csrfOf((await intruder.browser.get('/connect')).body);
    const other = await intruder.browser.post(`/connect/accounts/${victim.accountId}/reconnect`, { csrf });
    expect(other.statusCode).toBe(404);
    expect(text(other.body)).toContain('GW_ACCOUNT_NOT_FOUND');
    const forged = await victim.browser.post(`/connect/accounts/${victim.accountId}/reconnect`, { csrf: 'forged' });
    expect(forged.statusCode).toBe(403);
    expect(text(forged.body)).toContain('GW_CSRF_INVALID');
  });
});
