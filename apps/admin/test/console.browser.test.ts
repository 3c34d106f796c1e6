import { browserTestsEnabled, launchChromium, screenshotPath } from '@ttc/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, gql, seedAccounts, seedEvents, startTestAdmin, type TestAdmin } from './helpers.js';

// A receiver URL with a password and a token in its query: the console must show neither.
const WEBHOOK_URL = 'https://hook:pw-s3cret@hooks.example.test/in?token=tok-s3cret';

/** Records CSP refusals and uncaught page errors. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

describe.skipIf(!browserTestsEnabled)('admin console in a real browser', () => {
  let admin: TestAdmin;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    admin = await startTestAdmin({ webhookUrls: [WEBHOOK_URL] });
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
    const problems = watchProblems(page);
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

  it('lists webhook deliveries by status and redelivers one, at phone width, without showing URL secrets', async () => {
    // A delivery as the outbox records it (a disconnect), then as the worker leaves it after giving up.
    const [account] = await admin.db.prisma.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM social_accounts WHERE open_id = 'open-23'`;
    const disconnected = await gql(admin.app, 'mutation D($id: ID!) { disconnectAccount(id: $id) { id } }', {
      id: account!.id,
    });
    expect(disconnected.json().errors).toBeUndefined();
    const [event] = await admin.db.prisma.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM webhook_events WHERE type = 'account.disconnected' AND data::text LIKE ${`%${account!.id}%`}`;
    const delivery = await admin.db.prisma.webhookDelivery.findFirstOrThrow({ where: { eventId: event!.id } });
    await admin.db.prisma.webhookDelivery.update({
      where: { id: delivery.id },
      data: {
        state: 'FAILED',
        attempts: 7,
        lastStatus: 503,
        lastLatencyMs: 812,
        lastError: 'HTTP 503 Service Unavailable',
      },
    });

    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const problems = watchProblems(page);
    try {
      await page.goto(`${baseUrl}/console/webhooks`);
      await page.fill('#token', ADMIN_TOKEN);
      await Promise.all([page.waitForURL(`${baseUrl}/console/webhooks`), page.click('button[type=submit]')]);
      await page.locator('#total', { hasText: /matching deliver/ }).waitFor();

      await page.getByLabel('Status').selectOption('FAILED');
      await page.click('#webhook-filter button[type=submit]');
      await page.locator('#total', { hasText: /^1 matching delivery$/ }).waitFor();
      const row = page.locator(`#deliveries tbody tr[data-id="${delivery.id}"]`);
      await row.locator('.badge', { hasText: /^FAILED$/ }).waitFor();
      expect(await row.locator('td[data-label="Event"]').textContent()).toContain('account.disconnected');
      expect(await row.locator('td[data-label="Attempts"]').textContent()).toBe('7');
      expect(await row.locator('td[data-label="Last answer"]').textContent()).toBe('503 · 812 ms');
      expect(await row.locator('td[data-label="Last error"]').textContent()).toBe('HTTP 503 Service Unavailable');
      expect(await row.locator('td[data-label="Endpoint"]').textContent()).toBe(
        'https://hook:•••@hooks.example.test/in?token=•••',
      );
      expect(await page.content()).not.toMatch(/s3cret/);
      // No horizontal scrolling of the page at 390 px.
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await page.screenshot({ path: screenshotPath('admin-webhooks-390.png'), fullPage: true });

      // The button is a real button: reachable by keyboard, activated with Enter, and keeps the focus.
      const redeliver = row.getByRole('button', { name: /^Redeliver account\.disconnected/ });
      await redeliver.press('Enter');
      await page.locator('#message', { hasText: /^Redelivery of account\.disconnected .* queued/ }).waitFor();
      await row.locator('.badge', { hasText: /^PENDING$/ }).waitFor();
      expect(await row.locator('.outcome').textContent()).toBe('Queued');
      expect(await page.evaluate<string>("document.activeElement.closest('tr').dataset.id")).toBe(delivery.id);
      expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Redeliver');
      const stored = await admin.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
      expect(stored.state).toBe('PENDING');
      await page.screenshot({ path: screenshotPath('admin-webhooks-redelivered-390.png'), fullPage: true });

      await page.setViewportSize({ width: 1280, height: 800 });
      await page.screenshot({ path: screenshotPath('admin-webhooks.png'), fullPage: true });
      expect(problems).toEqual([]);
    } catch (error) {
      await page.screenshot({ path: screenshotPath('admin-webhooks-failure.png'), fullPage: true }).catch(() => {});
      throw error;
    } finally {
      await context.close();
    }
  });
});
