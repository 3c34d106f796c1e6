import { browserTestsEnabled, launchChromium, screenshotPath } from '@ttc/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, seedAccounts, seedEvents, startTestAdmin, type TestAdmin } from './helpers.js';

describe.skipIf(!browserTestsEnabled)('admin console in a real browser', () => {
  let admin: TestAdmin;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    admin = await startTestAdmin();
    await seedAccounts(admin.db.prisma, 60);
    await seedEvents(admin.db.prisma, 2);
    baseUrl = await admin.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await admin?.close();
  });

  it('logs in, finds an account, disconnects it and opens the queue dashboard', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    try {
      await page.goto(`${baseUrl}/console`);
      expect(new URL(page.url()).pathname).toBe('/console/login');

      await page.fill('#token', 'not-the-token');
      await page.click('button[type=submit]');
      await page.waitForSelector('.error');

      await page.fill('#token', ADMIN_TOKEN);
      await Promise.all([page.waitForURL(`${baseUrl}/console`), page.click('button[type=submit]')]);
      await page.waitForSelector('#accounts tbody tr');
      expect(await page.locator('#total').textContent()).toBe('60 matching accounts');
      const cookies = await context.cookies();
      expect(cookies.find((c) => c.name === 'ttc_admin_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

      await page.fill('#search', 'creator 17');
      await page.click('#search-form button[type=submit]');
      await page.locator('#total', { hasText: /^1 matching account$/ }).waitFor();
      const row = page.locator('#accounts tbody tr', { hasText: 'Creator 17' });
      await row.click();
      await page.waitForSelector('#detail-status');
      expect(await page.locator('#detail-status').textContent()).toBe('ACTIVE');
      expect(await page.locator('#events li').count()).toBe(2);

      await page.click('#disconnect');
      expect(await page.locator('#disconnect').textContent()).toBe('Confirm disconnect');
      await page.click('#disconnect');
      await page.locator('#message', { hasText: /^Account disconnected$/ }).waitFor();
      await page.locator('#detail-status', { hasText: /^DISCONNECTED$/ }).waitFor();
      expect(await page.locator('#events li').first().getAttribute('data-type')).toBe('DISCONNECTED');
      // The list reloads independently of the detail panel.
      await row.locator('.badge', { hasText: /^DISCONNECTED$/ }).waitFor();
      const [stored] = await admin.db.prisma.$queryRaw<{ status: string }[]>`
        SELECT status::text FROM social_accounts WHERE open_id = 'open-17'`;
      expect(stored?.status).toBe('DISCONNECTED');
      await page.screenshot({ path: screenshotPath('admin-console.png'), fullPage: true });

      await Promise.all([page.waitForURL(`${baseUrl}/queues`), page.click('#queues-link')]);
      await page.getByText('token.refresh').first().waitFor({ timeout: 15_000 });
      // Open one queue: its job states load through the dashboard's own API, behind the same admin session.
      await page.getByText('token.refresh').first().click();
      await page
        .getByText(/delayed/i)
        .first()
        .waitFor({ timeout: 15_000 });
      await page.screenshot({ path: screenshotPath('admin-queues.png'), fullPage: true });
      expect(problems).toEqual([]);
    } catch (error) {
      await page.screenshot({ path: screenshotPath('admin-console-failure.png'), fullPage: true }).catch(() => {});
      throw error;
    } finally {
      await context.close();
    }
  });
});
