// The API reference page in a real headless Chromium: it must render the gateway's operations from the gateway's own
// assets (no CDN: neither this machine nor every user's network reaches one) under its strict CSP, with no request
// leaving the gateway and no CSP violation.
import { browserTestsEnabled, launchChromium, screenshotPath } from '@ttc/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_PATH } from '../src/plugins/openapi.js';
import { type Harness, startHarness } from './harness.js';

describe.skipIf(!browserTestsEnabled)('the API reference page', () => {
  let browser: Browser;
  let stack: Harness;

  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startHarness({ listen: true })]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('renders every operation from local assets under its CSP, without unsafe-inline or unsafe-eval', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
    const page = await context.newPage();
    const problems: string[] = [];
    const origins = new Set<string>();
    // Chromium reports each CSP violation as a console error.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => {
      if (!request.url().startsWith('data:')) origins.add(new URL(request.url()).origin);
    });
    try {
      const res = await page.goto(`${stack.publicUrl}${REFERENCE_PATH}`);
      expect(res?.status()).toBe(200);
      const csp = res?.headers()['content-security-policy'] ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/unsafe-(inline|eval)/);

      await page.locator('.opblock').first().waitFor();
      const operations = await page.locator('.opblock-summary-path').allInnerTexts();
      expect(operations.map((o) => o.replace(/\u200b/g, ''))).toEqual(
        expect.arrayContaining(['/v1/connect-sessions', '/v1/accounts/{id}/access-token', '/connect', '/healthz']),
      );
      await expect(page.locator('.info .title').textContent()).resolves.toContain('@ttc/gateway');
      await page.screenshot({ path: screenshotPath('gateway-reference-page.png') });
      // An operation opened: parameters, the request body and the responses with their highlighted examples.
      await page.locator('.opblock-post .opblock-summary', { hasText: '/v1/connect-sessions' }).click();
      await page.locator('.opblock-body .responses-table').first().waitFor();
      await page.locator('.opblock.is-open').screenshot({ path: screenshotPath('gateway-reference-operation.png') });

      expect(problems).toEqual([]);
      expect([...origins]).toEqual([stack.publicUrl]);
    } finally {
      await context.close();
    }
  });
});
