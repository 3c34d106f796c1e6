// The whole connect flow as a person meets it: a real headless Chromium, the real gateway listening on a port, the
// TikTok sandbox on another host name (so cookies are as cross-site as with TikTok), Postgres, Redis and the real
// account.connected processor. This is the test of the mission: several TikTok accounts per user, even while the
// browser is logged in to TikTok.
import { randomUUID } from 'node:crypto';
import { browserTestsEnabled, launchChromium, screenshotPath } from '@ttc/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, startHarness } from './harness.js';

// The harness's allowed return origins include this one; "Done" is not followed here.
const RETURN_TO = 'http://localhost:5173/settings';

/** Gateway (listening on localhost), sandbox, Postgres, Redis and the real account.connected processor. */
function startStack(env: Record<string, string> = {}): Promise<Harness> {
  return startHarness({ listen: true, env: { CONNECT_OUTCOME_WAIT_MS: '5000', TIKTOK_TIMEOUT_MS: '10000', ...env } });
}

async function createConnectSession(
  stack: Harness,
  userId: string,
  extra: { reconnectAccountId?: string } = {},
): Promise<string> {
  const res = await fetch(`${stack.publicUrl}/v1/connect-sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId, returnTo: RETURN_TO, ...extra }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { url: string };
  return body.url;
}

const sandboxHost = (stack: Harness) => new URL(stack.sandbox.url).host;
const onTikTok = (page: Page, stack: Harness) => new URL(page.url()).host === sandboxHost(stack);
const accountNames = (page: Page) => page.locator('li.account .account-name').allInnerTexts();
const banner = (page: Page) => page.locator('.banner').textContent();

describe.skipIf(!browserTestsEnabled)('connecting several TikTok accounts in a real browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe('with disable_auto_auth=1 (the default)', () => {
    let stack: Harness;
    beforeAll(async () => {
      stack = await startStack();
    });
    afterAll(async () => {
      await stack?.close();
    });

    it('adds a second account while logged in to TikTok, reports a reconnection and a cancel', async () => {
      const userId = `e2e-user-${randomUUID()}`;
      // JavaScript off: the pages must work without it.
      const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
      const page = await context.newPage();
      try {
        await page.goto(await createConnectSession(stack, userId));
        // The one-time link is traded for a cookie and leaves the address bar.
        expect(new URL(page.url()).pathname).toBe('/connect');
        expect(await page.locator('li.account').count()).toBe(0);

        // 1. First connection: TikTok's pages are shown (login, then consent).
        await page.getByRole('button', { name: 'Connect a TikTok account' }).click();
        expect(onTikTok(page, stack)).toBe(true);
        await page.getByRole('button', { name: 'Log in as Ava Martin' }).click();
        await expect.poll(() => page.getByRole('button', { name: 'Authorize' }).count()).toBe(1);
        await page.getByRole('button', { name: 'Authorize' }).click();
        expect(new URL(page.url()).host).toBe(new URL(stack.publicUrl).host);
        expect(await banner(page)).toContain('Added Ava Martin');
        expect(await accountNames(page)).toEqual([expect.stringContaining('Ava Martin')]);

        // 2. "Add another account" with a live TikTok session: TikTok shows its page again, no silent redirect.
        await page.getByRole('button', { name: 'Add another account' }).click();
        expect(onTikTok(page, stack)).toBe(true);
        await expect.poll(() => page.getByRole('button', { name: 'Authorize' }).count()).toBe(1);
        expect(await page.getByRole('button', { name: 'Use another account' }).count()).toBe(1);
        await page.getByRole('button', { name: 'Use another account' }).click();
        await page.getByRole('button', { name: 'Log in as Ben Okafor' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        expect(await banner(page)).toContain('Added Ben Okafor');
        const twoAccounts = await accountNames(page);
        expect(twoAccounts).toHaveLength(2);
        expect(twoAccounts.join(' ')).toContain('Ava Martin');
        expect(twoAccounts.join(' ')).toContain('Ben Okafor');
        await page.screenshot({ path: screenshotPath('connect-page-two-accounts.png'), fullPage: true });

        // 3. The first account again: "reconnected", named, with how to add a different one; still two rows.
        await page.getByRole('button', { name: 'Add another account' }).click();
        await page.getByRole('button', { name: 'Use another account' }).click();
        await page.getByRole('button', { name: 'Log in as Ava Martin' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        const reconnected = await banner(page);
        expect(reconnected).toContain('Ava Martin');
        expect(reconnected).toMatch(/already connected/i);
        expect(reconnected).toContain('Use another account');
        expect(await accountNames(page)).toHaveLength(2);
        await page.screenshot({ path: screenshotPath('connect-page-reconnected.png'), fullPage: true });

        // 4. Cancelling on TikTok's page: "denied", nothing changes.
        await page.getByRole('button', { name: 'Add another account' }).click();
        await page.getByRole('button', { name: 'Cancel' }).click();
        expect(await banner(page)).toMatch(/cancelled/i);
        expect(await accountNames(page)).toHaveLength(2);

        const rows = await stack.db.prisma.socialAccount.findMany({ where: { userId }, orderBy: { openId: 'asc' } });
        expect(rows.map((r) => r.openId)).toEqual(['sbx-open-ava', 'sbx-open-ben']);
        expect(rows.every((r) => r.status === 'ACTIVE')).toBe(true);
      } finally {
        await context.close();
      }
    });
  });

  describe('reconnecting an account that needs re-authorization', () => {
    let stack: Harness;
    beforeAll(async () => {
      stack = await startStack();
    });
    afterAll(async () => {
      await stack?.close();
    });

    /** What a failed refresh with invalid_grant leaves: REAUTH_REQUIRED, tokens wiped. */
    async function needsReauth(accountId: string) {
      await stack.db.prisma.socialAccount.update({
        where: { id: accountId },
        data: { status: 'REAUTH_REQUIRED', accessTokenCiphertext: null, refreshTokenCiphertext: null },
      });
    }

    it('reconnects it from a reconnect session, and says so when TikTok returns another account', async () => {
      const userId = `e2e-user-${randomUUID()}`;
      const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
      const page = await context.newPage();
      try {
        await page.goto(await createConnectSession(stack, userId));
        await page.getByRole('button', { name: 'Connect a TikTok account' }).click();
        await page.getByRole('button', { name: 'Log in as Ava Martin' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        expect(await banner(page)).toContain('Added Ava Martin');
        const ava = await stack.db.prisma.socialAccount.findFirstOrThrow({ where: { userId } });
        await needsReauth(ava.id);

        // The upstream app sends the user back to re-authorize that account.
        await page.goto(await createConnectSession(stack, userId, { reconnectAccountId: ava.id }));
        const offer = page.locator('section.reconnect');
        expect(await offer.getByRole('heading').textContent()).toContain('Reconnect Ava Martin');
        expect(await page.locator('li.account .badge').textContent()).toBe('Needs reconnecting');
        await page.screenshot({ path: screenshotPath('connect-page-reconnect.png'), fullPage: true });
        await offer.getByRole('button', { name: /^Reconnect @/ }).click();
        // TikTok shows its page again (disable_auto_auth), still signed in as Ava.
        expect(onTikTok(page, stack)).toBe(true);
        await page.getByRole('button', { name: 'Authorize' }).click();
        expect(await banner(page)).toContain('Reconnected Ava Martin');
        expect(await page.locator('li.account .badge').textContent()).toBe('Active');
        expect((await stack.db.prisma.socialAccount.findUniqueOrThrow({ where: { id: ava.id } })).status).toBe(
          'ACTIVE',
        );

        // Again needing re-authorization; this time the user signs in as someone else on TikTok.
        await needsReauth(ava.id);
        await page.goto(`${stack.publicUrl}/connect`);
        await page
          .locator('li.account')
          .getByRole('button', { name: /^Reconnect/ })
          .click();
        await page.getByRole('button', { name: 'Use another account' }).click();
        await page.getByRole('button', { name: 'Log in as Ben Okafor' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        const told = await banner(page);
        expect(told).toContain('TikTok returned Ben Okafor');
        expect(told).toContain('not Ava Martin');
        expect(told).toContain('was added as another account');
        expect(await page.locator('.banner').getAttribute('role')).toBe('alert');
        await page.screenshot({ path: screenshotPath('connect-page-reconnect-other-account.png'), fullPage: true });
        const rows = await stack.db.prisma.socialAccount.findMany({ where: { userId }, orderBy: { openId: 'asc' } });
        expect(rows.map((r) => [r.openId, r.status])).toEqual([
          ['sbx-open-ava', 'REAUTH_REQUIRED'],
          ['sbx-open-ben', 'ACTIVE'],
        ]);
      } finally {
        await context.close();
      }
    });
  });

  describe('without disable_auto_auth (what every other integration does)', () => {
    let stack: Harness;
    beforeAll(async () => {
      stack = await startStack({ TIKTOK_DISABLE_AUTO_AUTH: 'false' });
    });
    afterAll(async () => {
      await stack?.close();
    });

    it('reproduces the problem: the second click silently returns the first account', async () => {
      const userId = `e2e-user-${randomUUID()}`;
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      try {
        await page.goto(await createConnectSession(stack, userId));
        await page.getByRole('button', { name: 'Connect a TikTok account' }).click();
        await page.getByRole('button', { name: 'Log in as Ava Martin' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        expect(await banner(page)).toContain('Added Ava Martin');

        // TikTok shows nothing this time: straight back, same account. The page still says what happened.
        await page.getByRole('button', { name: 'Add another account' }).click();
        expect(new URL(page.url()).host).toBe(new URL(stack.publicUrl).host);
        expect(await banner(page)).toMatch(/already connected/i);
        expect(await accountNames(page)).toHaveLength(1);
      } finally {
        await context.close();
      }
    });
  });
});
