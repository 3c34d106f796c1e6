import { auditPage, browserTestsEnabled, launchChromium } from '@ttc/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SandboxHandle, startSandbox } from '../src/index.js';

// Every page a developer meets on the sandbox, checked with axe-core at desktop and phone sizes and photographed.
describe.skipIf(!browserTestsEnabled)('sandbox pages: home, login and consent, accessible at 1280 and 390 px', () => {
  let sbx: SandboxHandle;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    sbx = await startSandbox({ appName: 'Acme Scheduler' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await sbx?.close();
  });
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext();
    page = await context.newPage();
  });

  const authorizeUrl = () =>
    `${sbx.authUrl}?${new URLSearchParams({
      client_key: sbx.clientKey,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:9/auth/tiktok/callback',
      scope: 'user.info.basic,video.list',
      state: 'pages-state',
      disable_auto_auth: '1',
    })}`;

  it('answers its root URL with a page saying what it is, how to use it, and its users', async () => {
    const response = await page.goto(`${sbx.url}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('TikTok sandbox');
    await page.getByRole('heading', { name: 'How to use it' }).waitFor();
    const body = await page.locator('main').textContent();
    expect(body).toContain(`TIKTOK_AUTH_URL=${sbx.url}/v2/auth/authorize/`);
    expect(body).toContain(`client key ${sbx.clientKey}`);
    expect(body).not.toContain(sbx.clientSecret);
    const users = await sbx.control.users();
    expect(await page.locator('li.user').count()).toBe(users.length);
    for (const user of users) {
      expect(body).toContain(user.displayName);
      expect(body).toContain(`@${user.username}`);
      expect(body).toContain(user.openId);
    }
    // Avatars load from the sandbox itself.
    const broken = await page.evaluate<number>(
      "[...document.querySelectorAll('li.user img')].filter((img) => !img.complete || img.naturalWidth === 0).length",
    );
    expect(broken).toBe(0);

    const audit = await auditPage(page, 'sandbox-home');
    expect(audit.violations).toEqual([]);
    expect(audit.overflow).toEqual({ 1280: 0, 390: 0 });
  });

  it('names the app, not its client key, on the login and consent pages, which pass axe (colour contrast included)', async () => {
    await page.goto(authorizeUrl());
    expect(await page.locator('.sub').textContent()).toContain('to continue to Acme Scheduler.');
    let audit = await auditPage(page, 'sandbox-login');
    expect(audit.violations).toEqual([]);
    expect(audit.overflow).toEqual({ 1280: 0, 390: 0 });

    await page.getByRole('button', { name: 'Log in as Ava Martin', exact: true }).click();
    const heading = await page.getByRole('heading', { level: 1 }).textContent();
    expect(heading).toBe('Acme Scheduler would like to access your TikTok account');
    expect(await page.locator('main').textContent()).not.toContain(sbx.clientKey);
    audit = await auditPage(page, 'sandbox-consent');
    expect(audit.violations).toEqual([]);
    expect(audit.overflow).toEqual({ 1280: 0, 390: 0 });
  });
});
