import { auditPage, browserTestsEnabled, horizontalOverflow, launchChromium } from '@ttc/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, gql, seedAccounts, seedEvents, startTestAdmin, type TestAdmin } from './helpers.js';

/** Records CSP refusals and uncaught page errors. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

/** Lets requests to this machine through and aborts every other one (recorded): a machine without internet. */
async function offline(context: BrowserContext): Promise<string[]> {
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.protocol === 'data:') return route.continue();
    blocked.push(url.href);
    return route.abort('internetdisconnected');
  });
  return blocked;
}

/** The element that has the keyboard focus, described for assertions. */
function focused(page: Page) {
  return page.evaluate<{ id: string; text: string; tag: string; label: string | null; outline: string }>(`(() => {
    const e = document.activeElement;
    const style = getComputedStyle(e);
    return { id: e.id, text: e.textContent.trim(), tag: e.tagName, label: e.getAttribute('aria-label'),
      outline: style.outlineStyle + ' ' + style.outlineWidth };
  })()`);
}

/** Presses Tab until `matches` holds for the focused element (at most `limit` times), like a keyboard user. */
async function tabTo(page: Page, matches: (f: Awaited<ReturnType<typeof focused>>) => boolean, limit = 80) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (matches(f)) return f;
  }
  throw new Error(`focus never reached the element after ${limit} Tab presses`);
}

async function signIn(page: Page, baseUrl: string, path: string): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await page.fill('#token', ADMIN_TOKEN);
  await Promise.all([page.waitForURL(`${baseUrl}${path}`), page.click('button[type=submit]')]);
}

describe.skipIf(!browserTestsEnabled)('admin pages: accessible, phone-sized, keyboard-operable, offline', () => {
  let admin: TestAdmin;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    admin = await startTestAdmin({ webhookUrls: ['https://hooks.example.test/in'], graphiql: true });
    await seedAccounts(admin.db.prisma, 60);
    await seedEvents(admin.db.prisma, 2);
    // One webhook delivery in the log (a disconnect records it), so the webhooks page shows a row.
    const [account] = await admin.db.prisma.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM social_accounts WHERE open_id = 'open-42'`;
    const done = await gql(admin.app, 'mutation D($id: ID!) { disconnectAccount(id: $id) { id } }', {
      id: account!.id,
    });
    expect(done.json().errors).toBeUndefined();
    baseUrl = await admin.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await admin?.close();
  });

  it('has no serious or critical axe violation and no horizontal scroll on any console page, at 1280 and 390 px', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchProblems(page);
    const audits: Record<string, Awaited<ReturnType<typeof auditPage>>> = {};
    try {
      await page.goto(`${baseUrl}/console`);
      audits.login = await auditPage(page, 'admin-login');

      await page.fill('#token', ADMIN_TOKEN);
      await Promise.all([page.waitForURL(`${baseUrl}/console`), page.click('button[type=submit]')]);
      await page.locator('#total', { hasText: /^60 matching accounts$/ }).waitFor();
      audits.accounts = await auditPage(page, 'admin-accounts');

      await page.locator('#accounts tbody tr', { hasText: 'Creator 59' }).click();
      await page.locator('#detail-status', { hasText: /^ACTIVE$/ }).waitFor();
      audits.detail = await auditPage(page, 'admin-account-detail');

      await page.goto(`${baseUrl}/console/webhooks`);
      await page.locator('#total', { hasText: /^1 matching delivery$/ }).waitFor();
      audits.webhooks = await auditPage(page, 'admin-webhooks');

      await page.goto(`${baseUrl}/queues`);
      await page.getByText('token.refresh').first().waitFor({ timeout: 15_000 });
      audits.queues = await auditPage(page, 'admin-queues');

      for (const [name, audit] of Object.entries(audits)) {
        expect(audit.violations, name).toEqual([]);
        expect(audit.overflow, name).toEqual({ 1280: 0, 390: 0 });
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('at 390 px the accounts table is one card per account, inside the screen', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    try {
      await signIn(page, baseUrl, '/console');
      await page.locator('#total', { hasText: /^60 matching accounts$/ }).waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await page.evaluate<number>('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(390);
      // Every row and cell ends inside the viewport (no clipped table hidden by an overflow rule either).
      const widest = await page.evaluate<number>(
        "Math.max(...[...document.querySelectorAll('#accounts, #accounts tr, #accounts td')].map((e) => e.getBoundingClientRect().right))",
      );
      expect(widest).toBeLessThanOrEqual(390);
      // Each cell shows its column's name (the header row is hidden in card layout).
      const label = await page.evaluate<string>(
        `getComputedStyle(document.querySelector('#accounts tbody tr td[data-label="Status"]'), '::before').content`,
      );
      expect(label).toBe('"Status"');
    } finally {
      await context.close();
    }
  });

  it('is operable by keyboard alone: sign in, search, open an account from the table and disconnect it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchProblems(page);
    try {
      await page.goto(`${baseUrl}/console`);
      // The token field has the focus on arrival (autofocus); Enter submits.
      expect((await focused(page)).id).toBe('token');
      await page.keyboard.type(ADMIN_TOKEN);
      await Promise.all([page.waitForURL(`${baseUrl}/console`), page.keyboard.press('Enter')]);
      await page.locator('#total', { hasText: /^60 matching accounts$/ }).waitFor();

      await tabTo(page, (f) => f.id === 'search');
      await page.keyboard.type('creator 23');
      await page.keyboard.press('Enter');
      await page.locator('#total', { hasText: /^1 matching account$/ }).waitFor();

      const open = await tabTo(page, (f) => f.label === 'Show Creator 23 (@creator_23)');
      expect(open.tag).toBe('BUTTON');
      expect(open.outline).toMatch(/^solid [3-9]px$/);
      await page.keyboard.press('Enter');
      await page.locator('#detail-status', { hasText: /^ACTIVE$/ }).waitFor();
      // The focus followed into the detail panel.
      expect((await focused(page)).id).toBe('detail-heading');

      const disconnect = await tabTo(page, (f) => f.id === 'disconnect', 5);
      expect(disconnect.outline).toMatch(/^solid [3-9]px$/);
      await page.keyboard.press('Enter');
      expect((await focused(page)).text).toBe('Confirm disconnect');
      await page.keyboard.press('Enter');
      await page.locator('#message', { hasText: /^Account disconnected$/ }).waitFor();
      await page.locator('#detail-status', { hasText: /^DISCONNECTED$/ }).waitFor();
      await page.waitForFunction(`document.activeElement.id === 'detail-heading'`);
      const [stored] = await admin.db.prisma.$queryRaw<{ status: string }[]>`
        SELECT status::text FROM social_accounts WHERE open_id = 'open-23'`;
      expect(stored?.status).toBe('DISCONNECTED');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('serves GraphiQL from its own assets: it loads and runs a query with every non-local request blocked', async () => {
    const context = await browser.newContext();
    const blocked = await offline(context);
    const page = await context.newPage();
    const problems = watchProblems(page);
    try {
      // Signed in to the console, GraphiQL's queries go with that session.
      await signIn(page, baseUrl, '/console');
      await page.goto(`${baseUrl}/graphiql`);
      const run = page.getByRole('button', { name: /^Execute query/ });
      await run.waitFor({ timeout: 20_000 });
      await run.click();
      const result = page.locator('.result-window');
      await result.getByText('"total": 60').waitFor({ timeout: 15_000 });
      expect(await result.textContent()).toContain('"status": "ACTIVE"');

      const audit = await auditPage(page, 'admin-graphiql');
      expect(audit.violations).toEqual([]);
      expect(blocked).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('GraphiQL page (inject)', () => {
  let admin: TestAdmin;
  beforeAll(async () => {
    admin = await startTestAdmin({ graphiql: true });
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('names no other origin in its page or policy, and serves its assets from the installed packages', async () => {
    const page = await admin.app.inject({ url: '/graphiql' });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toMatch(/https?:\/\//);
    expect(page.body).not.toContain('csrf-token');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:|unsafe-eval|script-src[^;]*unsafe-inline/);
    for (const name of ['react.js', 'react-dom.js', 'graphiql.js', 'graphiql.css', 'page.css', 'start.js']) {
      const asset = await admin.app.inject({ url: `/graphiql/assets/${name}` });
      expect(asset.statusCode, name).toBe(200);
      expect(asset.body.length, name).toBeGreaterThan(500);
    }
    expect((await admin.app.inject({ url: '/graphiql/assets/constructor' })).statusCode).toBe(404);
    expect((await admin.app.inject({ url: '/graphiql/assets/..%2Fpackage.json' })).statusCode).toBe(404);
  });

  it('is not served unless enabled, and its queries still need admin credentials', async () => {
    const off = await startTestAdmin({ graphiql: false });
    try {
      expect((await off.app.inject({ url: '/graphiql' })).statusCode).toBe(404);
      expect((await off.app.inject({ url: '/graphiql/assets/graphiql.js' })).statusCode).toBe(404);
    } finally {
      await off.close();
    }
    const anonymous = await gql(admin.app, '{ accountStats { total } }', undefined, {});
    expect(anonymous.statusCode).toBe(401);
  });
});
