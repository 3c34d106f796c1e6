// Popup mode and the client token, at the HTTP level: which headers popup pages keep and drop, what the pages tell
// the opener (and to which origin), "Done" in a popup, and the result route a browser reads with its client token.
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDK_PATH } from '../src/routes/sdk.js';
import { POPUP_SCRIPT_PATH } from '../src/views/popup-script.js';
import { API_KEY, type Browser, connectAndShow, type Harness, RETURN_TO, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

interface Created {
  id: string;
  url: string;
  clientToken: string;
  clientTokenExpiresAt: string;
}

async function create(body: Record<string, unknown> = {}): Promise<Created & { userId: string }> {
  const userId = `popup-${randomUUID()}`;
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/connect-sessions',
    headers: { authorization: `Bearer ${API_KEY}` },
    payload: { userId, returnTo: RETURN_TO, ...body },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { ...(res.json() as Created), userId };
}

/** Opens the link (optionally with a query) in a new browser; returns the browser and the link's response. */
async function open(session: Created, query = ''): Promise<{ browser: Browser; link: LightMyRequestResponse }> {
  const browser = h.browser();
  const link = await browser.get(`${new URL(session.url).pathname}${query}`);
  expect(link.statusCode, link.body).toBe(303);
  return { browser, link };
}

function result(id: string, token: string | undefined, headers: Record<string, string> = {}) {
  return h.app.inject({
    method: 'GET',
    url: `/v1/connect-sessions/${id}/result`,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
  });
}

/** The message a popup page carries for its opener, decoded from its data attributes. */
function popupData(body: string): { origin: string; message: Record<string, unknown>; close: boolean } | null {
  const match = /<div id="ttc-popup" hidden data-origin="([^"]*)" data-message="([^"]*)"( data-close="true")?>/.exec(
    body,
  );
  if (match === null) return null;
  const decode = (v: string) =>
    v
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');
  return {
    origin: decode(match[1] ?? ''),
    message: JSON.parse(decode(match[2] ?? '')) as Record<string, unknown>,
    close: match[3] !== undefined,
  };
}

describe('popup mode', () => {
  it('is a session option ("display": "popup"); any other display is refused with GW_VALIDATION', async () => {
    await create({ display: 'popup' });
    await create({ display: 'page' });
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/connect-sessions',
      headers: { authorization: `Bearer ${API_KEY}` },
      payload: { userId: 'u', returnTo: RETURN_TO, display: 'window' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('GW_VALIDATION');
    expect(res.json().error.message).toContain('display');
  });

  it('drops only COOP on popup pages: framing stays denied, the CSP allows the gateway script and nothing inline', async () => {
    const plain = await open(await create());
    const plainPage = await plain.browser.get('/connect');
    expect(plainPage.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(plainPage.headers['content-security-policy']).not.toContain('script-src');
    expect(plainPage.body).not.toContain('<script');
    expect(popupData(plainPage.body)).toBeNull();

    for (const [session, query] of [
      [await create({ display: 'popup' }), ''],
      [await create(), '?display=popup'],
    ] as const) {
      const { browser, link } = await open(session, query);
      expect(link.headers['cross-origin-opener-policy']).toBeUndefined();
      const page = await browser.get('/connect');
      expect(page.statusCode).toBe(200);
      for (const res of [link, page]) {
        expect(res.headers['cross-origin-opener-policy']).toBeUndefined();
        expect(res.headers['x-frame-options']).toBe('DENY');
        const csp = String(res.headers['content-security-policy']);
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).toContain("script-src 'self'");
        expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|nonce-|sha256-/);
        expect(res.headers['cross-origin-resource-policy']).toBe(plainPage.headers['cross-origin-resource-policy']);
        expect(res.headers['referrer-policy']).toBe('no-referrer');
      }
      expect(page.body).toContain(`<script src="${POPUP_SCRIPT_PATH}" defer></script>`);
      expect(page.body).not.toMatch(/<script>|<script [^s]/);
      // To the upstream app's origin only (returnTo's), never "*".
      expect(popupData(page.body)).toEqual({
        origin: new URL(RETURN_TO).origin,
        message: { type: 'tiktok-connect:ready', sessionId: session.id, results: [] },
        close: false,
      });
    }
  });

  it('posts each account to the opener, then "Done" posts the results and closes the popup (no token anywhere)', async () => {
    const session = await create({ display: 'popup' });
    const { browser } = await open(session);
    const { page } = await connectAndShow(h, browser, 'sbx-open-ava');
    const account = await h.db.prisma.socialAccount.findFirstOrThrow({ where: { userId: session.userId } });
    const avaResult = { accountId: account.id, openId: 'sbx-open-ava', displayName: 'Ava Martin', outcome: 'added' };
    expect(popupData(page.body)?.message).toEqual({
      type: 'tiktok-connect:account',
      sessionId: session.id,
      results: [avaResult],
    });
    expect(page.body).not.toMatch(/act\.|rft\./);

    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const done = await browser.get(`/connect/done?csrf=${encodeURIComponent(csrf)}`);
    expect(done.statusCode).toBe(200);
    expect(done.headers['cross-origin-opener-policy']).toBeUndefined();
    expect(done.body).toContain('All set');
    expect(done.body).toContain(`${RETURN_TO}?connect_session_id=${session.id}`);
    expect(popupData(done.body)).toEqual({
      origin: new URL(RETURN_TO).origin,
      message: { type: 'tiktok-connect:done', sessionId: session.id, results: [avaResult] },
      close: true,
    });

    // The browser's own read, with the client token: the same results, nothing about the user or the app.
    const res = await result(session.id, session.clientToken, { origin: 'https://app.example.com' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'finishedAt', 'id', 'results', 'status']);
    expect(body).toMatchObject({ id: session.id, status: 'finished', results: [avaResult] });
  });

  it('a cancel on TikTok is posted as tiktok-connect:cancelled', async () => {
    const session = await create({ display: 'popup' });
    const { browser } = await open(session);
    const start = await browser.get('/connect/tiktok');
    const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
    const callback = await browser.get(`/auth/tiktok/callback?error=access_denied&state=${encodeURIComponent(state)}`);
    expect(callback.statusCode).toBe(303);
    expect(callback.headers['cross-origin-opener-policy']).toBeUndefined();
    const page = await browser.get(String(callback.headers.location));
    expect(popupData(page.body)?.message.type).toBe('tiktok-connect:cancelled');
  });

  it('serves the popup script (immutable) and the SDK (cross-origin, revalidated by ETag)', async () => {
    const script = await h.app.inject(POPUP_SCRIPT_PATH);
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.body).toContain('window.opener.postMessage(message, origin)');

    const sdk = await h.app.inject(SDK_PATH);
    expect(sdk.statusCode).toBe(200);
    expect(sdk.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(sdk.headers['cache-control']).toBe('public, max-age=300, must-revalidate');
    expect(sdk.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(sdk.body).toContain('TikTokConnect');
    expect(sdk.body).toContain('openTikTokConnect');
    const again = await h.app.inject({ url: SDK_PATH, headers: { 'if-none-match': String(sdk.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });
});

describe('GET /v1/connect-sessions/:id/result (client token)', () => {
  it('answers open, then expired when the session ends without Done; the token stops 10 minutes later', async () => {
    const session = await create();
    const open = await result(session.id, session.clientToken);
    expect(open.statusCode).toBe(200);
    expect(open.json()).toMatchObject({ id: session.id, status: 'open', finishedAt: null, results: [] });
    const ttl = h.config.connectSessionTtlSeconds * 1000;
    h.advance(ttl + 1000);
    try {
      expect((await result(session.id, session.clientToken)).json().status).toBe('expired');
      h.advance(600_000);
      const late = await result(session.id, session.clientToken);
      expect(late.statusCode).toBe(401);
      expect(late.json().error.code).toBe('GW_UNAUTHORIZED');
    } finally {
      h.advance(-(ttl + 601_000));
    }
  });

  it('refuses: no token or the API key 401, another session’s token 401, a malformed id 400, an unknown one 404', async () => {
    const [a, b] = [await create(), await create()];
    const refusals: [LightMyRequestResponse, number, string][] = [
      [await result(a.id, undefined), 401, 'GW_UNAUTHORIZED'],
      [await result(a.id, API_KEY), 401, 'GW_UNAUTHORIZED'],
      [await result(a.id, b.clientToken), 401, 'GW_UNAUTHORIZED'],
      [
        await result(a.id, `${a.clientToken.slice(0, -1)}${a.clientToken.endsWith('A') ? 'B' : 'A'}`),
        401,
        'GW_UNAUTHORIZED',
      ],
      [await result('cs_short', a.clientToken), 400, 'GW_VALIDATION'],
      [await result(`cs_${'z'.repeat(22)}`, a.clientToken), 404, 'GW_CONNECT_SESSION_NOT_FOUND'],
    ];
    for (const [res, status, code] of refusals) {
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json().error.code).toBe(code);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.body).not.toContain(a.clientToken);
    }
  });

  it('lets the page read a refusal (CORS on 401 and 404 for a configured return origin, none for another)', async () => {
    const a = await create();
    const allowed = 'https://app.example.com';
    for (const res of [
      await result(a.id, undefined, { origin: allowed }),
      await result(`cs_${'y'.repeat(22)}`, a.clientToken, { origin: allowed }),
    ]) {
      expect([401, 404]).toContain(res.statusCode);
      expect(res.headers['access-control-allow-origin']).toBe(allowed);
      expect(String(res.headers.vary)).toContain('origin');
    }
    const foreign = await result(a.id, undefined, { origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(401);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers the CORS preflight for allowed return origins only', async () => {
    const preflight = (origin: string) =>
      h.app.inject({
        method: 'OPTIONS',
        url: `/v1/connect-sessions/cs_${'p'.repeat(22)}/result`,
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(allowed.headers['access-control-allow-headers']).toBe('authorization');
    expect(allowed.headers['access-control-allow-methods']).toBe('GET');
    const other = await preflight('https://evil.example');
    expect(other.statusCode).toBe(204);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
