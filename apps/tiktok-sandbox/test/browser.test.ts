import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SandboxHandle, startSandbox } from '../src/index.js';

const CHROMIUM = process.env.TEST_CHROMIUM_PATH ?? '/usr/bin/chromium';

// The pages as a user meets them: a real browser with JavaScript switched off, targeting buttons by accessible name.
describe.skipIf(!existsSync(CHROMIUM))('sandbox pages in a real browser (no JavaScript)', () => {
  let sbx: SandboxHandle;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  // The client's callback: a real local server, as a browser follows the sandbox's redirect there.
  let callbackServer: Server;
  let CALLBACK: string;

  beforeAll(async () => {
    sbx = await startSandbox();
    callbackServer = createServer((_req, res) => res.end('callback reached'));
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    CALLBACK = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/auth/tiktok/callback`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await sbx?.close();
    await new Promise((resolve) => callbackServer?.close(resolve));
  });
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext({ javaScriptEnabled: false });
    page = await context.newPage();
  });

  function authorizeUrl(extra: Record<string, string> = {}): string {
    const q = new URLSearchParams({
      client_key: sbx.clientKey,
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'user.info.basic,video.list',
      state: 'browser-state',
      ...extra,
    });
    return `${sbx.authUrl}?${q}`;
  }

  async function callback(): Promise<URLSearchParams> {
    await page.waitForURL(`${CALLBACK}**`);
    return new URL(page.url()).searchParams;
  }

  it('logs in, consents, then silently reuses the session on the next authorize', async () => {
    await page.goto(authorizeUrl());
    await page.getByRole('button', { name: 'Log in as Ava Martin', exact: true }).click();
    expect(await page.getByRole('button', { name: 'Use another account', exact: true }).count()).toBe(1);
    expect(await page.getByText('Ava Martin', { exact: true }).count()).toBe(1);
    await page.getByRole('button', { name: 'Authorize', exact: true }).click();
    const first = await callback();
    expect(first.get('code')).toBeTruthy();
    expect(first.get('state')).toBe('browser-state');

    // The problem: a second "connect" shows nothing and returns the same account.
    await page.goto(authorizeUrl({ prompt: 'select_account', force_authentication: 'true' }));
    const second = await callback();
    expect(second.get('code')).toBeTruthy();
    const calls = await sbx.control.calls({ endpoint: 'authorize' });
    expect(calls.at(-1)).toMatchObject({ authorizeOutcome: 'silent_redirect', openId: 'sbx-open-ava' });
  });

  it('switches account with "Use another account" and honours an unticked scope', async () => {
    await page.goto(authorizeUrl());
    await page.getByRole('button', { name: 'Log in as Ava Martin', exact: true }).click();
    await page.goto(authorizeUrl({ disable_auto_auth: '1' }));
    await page.getByRole('button', { name: 'Use another account', exact: true }).click();
    await page.getByRole('button', { name: 'Log in as Ben Okafor', exact: true }).click();
    expect(await page.getByText('Ben Okafor', { exact: true }).count()).toBe(1);
    await page.getByRole('checkbox', { name: /video\.list/ }).uncheck();
    expect(await page.getByRole('checkbox', { name: /user\.info\.basic/ }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Authorize', exact: true }).click();
    const params = await callback();
    expect(params.get('scopes')).toBe('user.info.basic');
    expect(params.get('state')).toBe('browser-state');
  });

  it('Cancel returns access_denied', async () => {
    await page.goto(authorizeUrl({ disable_auto_auth: '1' }));
    await page.getByRole('button', { name: 'Log in as Emi Tanaka', exact: true }).click();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    const params = await callback();
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe('browser-state');
  });
});
