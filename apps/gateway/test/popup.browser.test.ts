// Popup mode, end to end, as an upstream app's user meets it: the demo upstream app (apps/demo-upstream) on its own
// origin opens the hosted connect page in a popup with the browser SDK (served by the gateway at /sdk/connect.js),
// real Chromium, the real gateway, the TikTok sandbox on another host, Postgres, Redis and the real account.connected
// processor. Every page met is checked with axe-core and photographed at a laptop's and a phone's size.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildDemoApp } from '@ttc/demo-upstream';
import { auditPage, browserTestsEnabled, freePort, launchChromium } from '@ttc/testing';
import { signatureHeader } from '@ttc/webhooks';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, startHarness } from './harness.js';

const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** Axe finds nothing serious or critical, and the page does not scroll sideways at 1280 px or 390 px. */
async function checkPage(page: Page, name: string): Promise<void> {
  const before = page.viewportSize();
  const { violations, overflow } = await auditPage(page, name);
  if (before) await page.setViewportSize(before);
  expect(violations, `${name}: axe`).toEqual([]);
  expect(overflow, `${name}: horizontal scroll`).toEqual({ 390: 0, 1280: 0 });
}

describe.skipIf(!browserTestsEnabled)('popup mode with the browser SDK, from the demo upstream app', () => {
  let browser: Browser;
  let stack: Harness;
  let demoOrigin: string;
  let demoPort: number;
  /** A page on a third origin that posts a forged "done" to whatever window opened it. */
  let forger: Server;
  let forgerOrigin: string;

  beforeAll(async () => {
    demoPort = await freePort();
    demoOrigin = `http://127.0.0.1:${demoPort}`;
    [browser, stack] = await Promise.all([
      launchChromium(),
      startHarness({
        listen: true,
        env: {
          CONNECT_OUTCOME_WAIT_MS: '5000',
          TIKTOK_TIMEOUT_MS: '10000',
          ALLOWED_RETURN_ORIGINS: `https://app.example.com,${demoOrigin}`,
        },
      }),
    ]);
    forger = createServer((req, res) => {
      const sessionId = new URL(req.url ?? '/', 'http://x').searchParams.get('s') ?? '';
      const forged = {
        type: 'tiktok-connect:done',
        sessionId,
        results: [{ accountId: 'forged', openId: 'forged', displayName: 'Mallory', outcome: 'added' }],
      };
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>forger</title><script>
window.opener.postMessage(${JSON.stringify(forged)}, '*'); document.title = 'posted';</script>`);
    });
    await new Promise<void>((resolve) => forger.listen(0, '127.0.0.1', resolve));
    forgerOrigin = `http://127.0.0.1:${(forger.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await new Promise((resolve) => forger?.close(resolve));
  });

  /** The demo app for one new user, listening on its own origin. */
  async function startDemo(userId: string): Promise<FastifyInstance> {
    const demo = await buildDemoApp({
      gatewayUrl: stack.publicUrl,
      apiKey: () => API_KEY,
      publicUrl: demoOrigin,
      userId,
      webhookSecret: WEBHOOK_SECRET,
    });
    await demo.listen({ port: demoPort, host: '127.0.0.1' });
    return demo;
  }

  /** The SDK events the demo page logged, `type` or `error:code`. */
  const events = async (page: Page) => {
    const items = page.locator('#events li');
    const out: string[] = [];
    for (let i = 0; i < (await items.count()); i++) {
      const item = items.nth(i);
      const [event, code] = await Promise.all([item.getAttribute('data-event'), item.getAttribute('data-code')]);
      out.push(code ? `${event}:${code}` : (event ?? ''));
    }
    return out;
  };
  /** Records every message the page receives (origin and type), next to the SDK's own listener. */
  const recordMessages = (page: Page) =>
    page.evaluate(
      "window.seen = []; window.addEventListener('message', (e) => window.seen.push({ origin: e.origin, data: e.data }))",
    );
  const messages = (page: Page) => page.evaluate('window.seen') as Promise<{ origin: string; data: unknown }[]>;
  const demoAccounts = (page: Page) => page.locator('#accounts li.account .account-name').allInnerTexts();

  /** On TikTok's (the sandbox's) pages in the popup: log in as `name` (through "Use another account" if asked). */
  async function connectOnTikTok(popup: Page, name: string, another: boolean): Promise<void> {
    if (another) await popup.getByRole('button', { name: 'Use another account' }).click();
    await popup.getByRole('button', { name: `Log in as ${name}` }).click();
    await popup.getByRole('button', { name: 'Authorize' }).click();
    await popup.waitForURL((url) => url.origin === stack.publicUrl && url.pathname === '/connect');
  }

  async function withDemo(fn: (context: BrowserContext, userId: string) => Promise<void>): Promise<void> {
    const userId = `popup-user-${randomUUID()}`;
    const demo = await startDemo(userId);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      await fn(context, userId);
    } finally {
      await context.close();
      await demo.close();
    }
  }

  it('connects two accounts in the popup (the second through "Use another account"); the page gets both by postMessage', {
    timeout: 120_000,
  }, async () => {
    await withDemo(async (context, userId) => {
      const page = await context.newPage();
      await page.goto(`${demoOrigin}/`);
      // Every message the demo page receives, to prove no token ever reaches it.
      await recordMessages(page);
      expect(await page.getByRole('heading', { name: 'Your TikTok accounts' }).count()).toBe(1);
      expect(await demoAccounts(page)).toEqual([]);
      await checkPage(page, 'demo-app-empty');

      const popupOpened = page.waitForEvent('popup');
      await page.getByRole('button', { name: 'Connect TikTok accounts' }).click();
      const popup = await popupOpened;
      await popup.waitForURL((url) => url.origin === stack.publicUrl && url.pathname === '/connect');
      // Popup mode keeps every protection but the opener-severing header.
      const response = await popup.reload();
      const headers = response?.headers() ?? {};
      expect(headers['cross-origin-opener-policy']).toBeUndefined();
      expect(headers['x-frame-options']).toBe('DENY');
      expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(headers['content-security-policy']).not.toContain('unsafe-inline');
      await checkPage(popup, 'connect-popup-empty');

      await popup.getByRole('button', { name: 'Connect a TikTok account' }).click();
      await connectOnTikTok(popup, 'Ava Martin', false);
      await expect.poll(() => events(page)).toEqual(['opened', 'account']);
      await checkPage(popup, 'connect-popup-one-account');

      // TikTok's session is live (Ava): TikTok's page is shown again; "Use another account" picks Ben.
      await popup.getByRole('button', { name: 'Add another account' }).click();
      await connectOnTikTok(popup, 'Ben Okafor', true);
      await expect.poll(() => events(page)).toEqual(['opened', 'account', 'account']);
      expect(await page.locator('#events li').allInnerTexts()).toEqual([
        'opened',
        'account: Ava Martin (added)',
        'account: Ben Okafor (added)',
      ]);

      const closed = popup.waitForEvent('close');
      await popup.getByRole('link', { name: 'Done' }).click();
      await closed; // the popup closes itself after posting "done"
      await expect.poll(() => events(page)).toEqual(['opened', 'account', 'account', 'closed']);
      expect(await page.locator('#notice').textContent()).toContain('Connected 2 accounts.');
      // The list comes from the account API (server-side, with the API key).
      await expect.poll(() => demoAccounts(page).then((names) => names.sort())).toEqual(['Ava Martin', 'Ben Okafor']);

      const seen = await messages(page);
      expect(seen.length).toBeGreaterThanOrEqual(3);
      expect(seen.every((m) => m.origin === stack.publicUrl)).toBe(true);
      const text = JSON.stringify(seen);
      expect(text).not.toMatch(/act\.|rft\.|accessToken|refreshToken|clientToken|ct_/);
      expect(await page.content()).not.toMatch(/act\.|rft\./);
      const rows = await stack.db.prisma.socialAccount.findMany({ where: { userId }, orderBy: { openId: 'asc' } });
      expect(rows.map((r) => r.openId)).toEqual(['sbx-open-ava', 'sbx-open-ben']);

      // "Get access token": server-side; the page says it worked and when it expires, never the token.
      await page
        .getByRole('button', { name: /^Get access token for Ava Martin/ })
        .first()
        .click();
      await page.waitForURL((url) => url.searchParams.has('token'));
      const notice = (await page.locator('#notice').textContent()) ?? '';
      expect(new URL(page.url()).searchParams.get('token'), notice).toBe('ok');
      expect(notice).toMatch(/Got an access token for Ava Martin \(not shown\); it expires at \d{4}-/);
      expect(await page.content()).not.toMatch(/act\./);

      // A signed webhook arrives while the page is open: listed live; a forged one is refused.
      const body = JSON.stringify({
        type: 'account.connected',
        timestamp: new Date().toISOString(),
        data: { displayName: 'Ava Martin' },
      });
      const id = `msg_${randomUUID()}`;
      const timestamp = Math.floor(Date.now() / 1000);
      const send = (signature: string) =>
        fetch(`${demoOrigin}/webhooks`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signature,
          },
          body,
        });
      const forged = `whsec_${randomBytes(32).toString('base64')}`;
      expect((await send(signatureHeader([forged], id, timestamp, body))).status).toBe(400);
      await page.locator('body[data-webhooks-live]').waitFor(); // the page's live stream is connected
      expect((await send(signatureHeader([WEBHOOK_SECRET], id, timestamp, body))).status).toBe(204);
      await expect
        .poll(() => page.locator('#webhooks li').allInnerTexts())
        .toEqual([expect.stringContaining('account.connected')]);
      await checkPage(page, 'demo-app-two-accounts');
    });
  });

  it('still gets the results when the popup is cut from the page (COOP on the demo page): by polling', {
    timeout: 120_000,
  }, async () => {
    await withDemo(async (context) => {
      const page = await context.newPage();
      await page.goto(`${demoOrigin}/?coop=same-origin`);
      await recordMessages(page);
      const popupOpened = page.waitForEvent('popup');
      await page.getByRole('button', { name: 'Connect TikTok accounts' }).click();
      const popup = await popupOpened;
      await popup.waitForURL((url) => url.origin === stack.publicUrl && url.pathname === '/connect');
      expect(await popup.evaluate('window.opener === null')).toBe(true);

      await popup.getByRole('button', { name: 'Connect a TikTok account' }).click();
      await connectOnTikTok(popup, 'Ava Martin', false);
      await popup.getByRole('button', { name: 'Add another account' }).click();
      await connectOnTikTok(popup, 'Ben Okafor', true);
      const closed = popup.waitForEvent('close');
      await popup.getByRole('link', { name: 'Done' }).click();
      await closed; // cut from the page, the popup still closes itself after Done

      await expect.poll(() => events(page), { timeout: 15_000 }).toEqual(['opened', 'account', 'account', 'closed']);
      // Not one message reached the page: the results came from the gateway, read with the client token.
      expect(await messages(page)).toEqual([]);
      expect(await page.locator('#notice').textContent()).toContain('Connected 2 accounts.');
      await expect.poll(() => demoAccounts(page).then((names) => names.sort())).toEqual(['Ava Martin', 'Ben Okafor']);
    });
  });

  it('reports window_closed when the popup is closed early, and ignores a message from another origin', {
    timeout: 120_000,
  }, async () => {
    await withDemo(async (context) => {
      const page = await context.newPage();
      await page.goto(`${demoOrigin}/`);
      await recordMessages(page);
      const popupOpened = page.waitForEvent('popup');
      await page.getByRole('button', { name: 'Connect TikTok accounts' }).click();
      const popup = await popupOpened;
      await popup.waitForURL((url) => url.origin === stack.publicUrl && url.pathname === '/connect');
      const sessionId = await page.locator('#events li[data-event="opened"]').getAttribute('data-session-id');
      expect(sessionId).toMatch(/^cs_/);

      // The popup ends up on another site, which forges "done" for this very session: the SDK ignores it.
      // (Navigated by a script in the popup, as a page would: a navigation typed by the user would cut the opener.)
      await popup.evaluate(`window.location.href = ${JSON.stringify(`${forgerOrigin}/?s=${sessionId}`)}`);
      await expect.poll(() => popup.title()).toBe('posted');
      // It did arrive, from the popup window itself, naming this session: only its origin gives it away.
      await expect.poll(async () => (await messages(page)).filter((m) => m.origin === forgerOrigin).length).toBe(1);
      await page.waitForTimeout(300); // the SDK's listener ran too; give any reaction time to show
      expect(await events(page)).toEqual(['opened']);
      expect(await page.locator('#notice').textContent()).toBe('');

      await popup.close();
      await expect.poll(() => events(page)).toEqual(['opened', 'error:window_closed']);
      expect(await page.locator('#notice').textContent()).toContain('The window was closed before Done.');
      await checkPage(page, 'demo-app-window-closed');
    });
  });

  it('the hosted page in each state: groups by status, reconnects a disconnected account, local dates, fits 360 px', {
    timeout: 120_000,
  }, async () => {
    const userId = `states-user-${randomUUID()}`;
    const res = await fetch(`${stack.publicUrl}/v1/connect-sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId, returnTo: `${demoOrigin}/connected` }),
    });
    const { url } = (await res.json()) as { url: string };
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
    const page = await context.newPage();
    const section = (title: string) => page.locator('section', { has: page.getByRole('heading', { name: title }) });
    try {
      await page.goto(url);
      await checkPage(page, 'connect-page-empty');
      await page.getByRole('button', { name: 'Connect a TikTok account' }).click();
      await connectOnTikTok(page, 'Ava Martin', false);
      for (const name of ['Ben Okafor', 'Chloé Dubois']) {
        await page.getByRole('button', { name: 'Add another account' }).click();
        await connectOnTikTok(page, name, true);
      }
      // Ben's refresh token was refused by TikTok; Chloé is disconnected from the page (with its confirmation).
      const ben = await stack.db.prisma.socialAccount.findFirstOrThrow({ where: { userId, openId: 'sbx-open-ben' } });
      await stack.db.prisma.socialAccount.update({ where: { id: ben.id }, data: { status: 'REAUTH_REQUIRED' } });
      await page.goto(`${stack.publicUrl}/connect`);
      await page.getByRole('button', { name: 'Disconnect Chloé Dubois' }).click();
      await checkPage(page, 'connect-page-confirm-disconnect');
      await page.getByRole('button', { name: 'Yes, disconnect' }).click();

      expect(await section('Connected accounts').locator('li.account .account-name').allTextContents()).toEqual([
        expect.stringContaining('Ava Martin'),
      ]);
      expect(await section('Need reconnecting').locator('li.account .account-name').allTextContents()).toEqual([
        expect.stringContaining('Ben Okafor'),
      ]);
      const gone = section('Disconnected').locator('li.account');
      expect(await gone.locator('.account-name').allTextContents()).toEqual([expect.stringContaining('Chloé Dubois')]);
      // Never called connected: "Disconnected <date>", with a way back.
      const goneText = (await gone.textContent()) ?? '';
      expect(goneText).not.toMatch(/Connected|Active/);
      expect(goneText).toContain('Disconnected');
      expect(await gone.getByRole('button', { name: /^Reconnect/ }).count()).toBe(1);

      // Dates in the reader's language (de-DE here), the time zone named.
      const ava = await stack.db.prisma.socialAccount.findFirstOrThrow({ where: { userId, openId: 'sbx-open-ava' } });
      const expected = new Intl.DateTimeFormat('de-DE', {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: 'numeric',
        minute: '2-digit',
        timeZone: 'UTC',
        timeZoneName: 'short',
      }).format(ava.connectedAt);
      expect(await section('Connected accounts').locator('time').first().textContent()).toBe(expected);
      expect(expected).toContain('UTC');

      await checkPage(page, 'connect-page-three-states');
      await page.setViewportSize({ width: 360, height: 740 });
      expect(await page.evaluate('document.documentElement.scrollWidth <= 360')).toBe(true);
      await page.setViewportSize({ width: 1280, height: 800 });

      // The disconnected account can be reconnected (TikTok still signed in as Chloé).
      await gone.getByRole('button', { name: /^Reconnect/ }).click();
      await page.getByRole('button', { name: 'Authorize' }).click();
      await page.waitForURL((u) => u.origin === stack.publicUrl && u.pathname === '/connect');
      expect(await page.locator('.banner').textContent()).toContain('Reconnected Chloé Dubois');
      expect(await section('Connected accounts').locator('li.account').count()).toBe(2);
      expect(await section('Disconnected').count()).toBe(0);

      // The popup's "All set" page, opened as a tab (a tab the page did not open cannot close itself).
      const popupSession = await fetch(`${stack.publicUrl}/v1/connect-sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userId, returnTo: `${demoOrigin}/connected`, display: 'popup' }),
      });
      const tab = await context.newPage();
      await tab.goto(((await popupSession.json()) as { url: string }).url);
      await checkPage(tab, 'connect-popup-mode-tab');
      await tab.getByRole('link', { name: 'Done' }).click();
      await tab.getByRole('heading', { name: 'All set' }).waitFor();
      await checkPage(tab, 'connect-popup-all-set');
    } finally {
      await context.close();
    }
  });
});
