// What an upstream app learns about a connect session: GET /v1/connect-sessions/:id with the outcome of every
// connection the worker stored, and connect_session_id on the way back from "Done".
import { CONNECT_SESSION_RETENTION_SECONDS } from '@ttc/queue';
import { SANDBOX_USERS } from '@ttc/tiktok-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connectAndShow, type Harness, RETURN_TO, startHarness } from './harness.js';

let h: Harness;
const [ava, ben] = SANDBOX_USERS as [(typeof SANDBOX_USERS)[0], (typeof SANDBOX_USERS)[0]];

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

function doneHref(body: string): string {
  const href = /href="(\/connect\/done\?csrf=[^"]+)">Done<\/a>/.exec(body)?.[1];
  if (!href) throw new Error('no Done link on the page');
  return href.replace(/&amp;/g, '&');
}

describe('GET /v1/connect-sessions/:id', () => {
  it('lists two added accounts and one reconnected, with open and finish times, and Done carries the id', async () => {
    const { browser, id, userId, url } = await h.openSession();
    const fresh = (await api(h, 'GET', `/v1/connect-sessions/${id}`)).json();
    expect(fresh).toMatchObject({ id, userId, returnTo: RETURN_TO, finishedAt: null, results: [] });
    expect(Date.parse(fresh.openedAt)).toBeGreaterThanOrEqual(Date.parse(fresh.createdAt));

    await connectAndShow(h, browser, ava.openId);
    await connectAndShow(h, browser, ben.openId);
    const { t, page } = await connectAndShow(h, browser, ava.openId);
    // The page's banners keep working with the richer result.
    expect(t).toContain('was already connected');

    const back = await browser.get(doneHref(page.body));
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe(`${RETURN_TO}?connect_session_id=${id}`);

    const res = await api(h, 'GET', `/v1/connect-sessions/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    const rows = await h.db.prisma.socialAccount.findMany({ where: { userId } });
    const idOf = (openId: string) => rows.find((r) => r.openId === openId)?.id;
    expect(body.results).toEqual([
      { accountId: idOf(ava.openId), openId: ava.openId, displayName: ava.displayName, outcome: 'added' },
      { accountId: idOf(ben.openId), openId: ben.openId, displayName: ben.displayName, outcome: 'added' },
      { accountId: idOf(ava.openId), openId: ava.openId, displayName: ava.displayName, outcome: 'reconnected' },
    ]);
    expect(body.finishedAt).not.toBeNull();
    expect(Object.keys(body).sort()).toEqual(
      ['createdAt', 'expiresAt', 'finishedAt', 'id', 'openedAt', 'results', 'returnTo', 'userId'].sort(),
    );
    // Nothing secret in it: the link's secret is not the id.
    expect(JSON.stringify(body)).not.toContain(new URL(url).pathname.split('.')[1]);
  });

  it('keeps the existing query and fragment of returnTo when Done adds connect_session_id', async () => {
    const returnTo = 'https://app.example.com/settings/tiktok?tab=accounts&x=a%20b#list';
    const created = await api(h, 'POST', '/v1/connect-sessions', { userId: 'user-query', returnTo });
    const { id, url } = created.json();
    const browser = h.browser();
    await browser.get(new URL(url).pathname);
    const page = await browser.get('/connect');
    const back = await browser.get(doneHref(page.body));
    expect(back.headers.location).toBe(
      `https://app.example.com/settings/tiktok?tab=accounts&x=a%20b&connect_session_id=${id}#list`,
    );
  });

  it('refuses Done without the page CSRF token (403), and records nothing', async () => {
    const { browser, id } = await h.openSession();
    const res = await browser.get('/connect/done?csrf=forged');
    expect(res.statusCode).toBe(403);
    expect((await api(h, 'GET', `/v1/connect-sessions/${id}`)).json().finishedAt).toBeNull();
  });

  it('stays readable a day after the session expired, then answers 404', async () => {
    const { browser, id } = await h.openSession();
    await connectAndShow(h, browser, ben.openId);
    const ttlMs = h.config.connectSessionTtlSeconds * 1000;
    h.advance(ttlMs + 24 * 3600 * 1000);
    try {
      // The session itself is over: its page says so.
      expect((await browser.get('/connect')).statusCode).toBe(410);
      const res = await api(h, 'GET', `/v1/connect-sessions/${id}`);
      expect(res.statusCode).toBe(200);
      expect(res.json().results).toEqual([expect.objectContaining({ openId: ben.openId, outcome: 'added' })]);
      h.advance(CONNECT_SESSION_RETENTION_SECONDS * 1000 - 24 * 3600 * 1000);
      const gone = await api(h, 'GET', `/v1/connect-sessions/${id}`);
      expect(gone.statusCode).toBe(404);
      expect(gone.json().error.code).toBe('GW_CONNECT_SESSION_NOT_FOUND');
    } finally {
      h.advance(-(ttlMs + CONNECT_SESSION_RETENTION_SECONDS * 1000));
    }
  });

  it('answers an unknown or malformed id with 404 GW_CONNECT_SESSION_NOT_FOUND, and the link token too', async () => {
    const { url } = await h.createSession();
    const linkToken = new URL(url).pathname.split('/')[2] as string;
    for (const id of [`cs_${'A'.repeat(22)}`, 'nope', linkToken, `cs_${'A'.repeat(43)}`]) {
      const res = await api(h, 'GET', `/v1/connect-sessions/${encodeURIComponent(id)}`);
      expect(res.statusCode, id).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'GW_CONNECT_SESSION_NOT_FOUND', message: expect.any(String) } });
    }
  });

  it('refuses a missing or wrong API key with 401 GW_UNAUTHORIZED', async () => {
    const { id } = await h.createSession();
    for (const headers of [{}, { authorization: 'Bearer wrong-key-xxxxxxxxxxxxxxxxxxxxxx' }]) {
      const res = await h.app.inject({ method: 'GET', url: `/v1/connect-sessions/${id}`, headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('GW_UNAUTHORIZED');
    }
  });
});
