// The whole connect flow as a person meets it: a real headless Chromium, the real gateway listening on a port, the
// TikTok sandbox on another host name (so cookies are as cross-site as with TikTok), Postgres, Redis and the real
// account.connected processor. This is the test of the mission: several TikTok accounts per user, even while the
// browser is logged in to TikTok.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AccountsDeps, createAccountConnectedProcessor } from '@ttc/accounts';
import { loadConfig } from '@ttc/config';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection, QueueNames, type Queues } from '@ttc/queue';
import { browserTestsEnabled, launchChromium, screenshotPath } from '@ttc/testing';
import { createTikTokClient } from '@ttc/tiktok';
import { type SandboxHandle, startSandbox } from '@ttc/tiktok-sandbox';
import { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../src/app.js';

const API_KEY = `gw_e2e_${randomBytes(18).toString('hex')}`;
const RETURN_TO = 'http://localhost:5173/settings';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Stack {
  gatewayUrl: string;
  sandbox: SandboxHandle;
  db: TestDatabase;
  close(): Promise<void>;
}

/** Gateway + worker + sandbox, with the TikTok authorize extras as configured. */
async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `e2e-${randomBytes(6).toString('hex')}`;
  const [db, sandbox, port] = await Promise.all([createTestDatabase(), startSandbox({ port: 0 }), freePort()]);
  // The gateway on "localhost", TikTok on "127.0.0.1": two sites, as in production.
  const gatewayUrl = `http://localhost:${port}`;
  const config = loadConfig({
    service: 'gateway',
    devSecretsFile: join(tmpdir(), `ttc-e2e-${prefix}.json`),
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      QUEUE_PREFIX: prefix,
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      TIKTOK_CLIENT_KEY: sandbox.clientKey,
      TIKTOK_CLIENT_SECRET: sandbox.clientSecret,
      TIKTOK_AUTH_URL: sandbox.authUrl,
      TIKTOK_API_URL: sandbox.url,
      TIKTOK_SCOPES: 'user.info.basic,user.info.profile,video.list',
      PUBLIC_GATEWAY_URL: gatewayUrl,
      GATEWAY_API_KEYS: API_KEY,
      ALLOWED_RETURN_ORIGINS: 'http://localhost:5173',
      TOKEN_ENCRYPTION_KEYS: generateKeyringEntry('e2e'),
      COOKIE_SECRET: randomBytes(32).toString('base64url'),
      CONNECT_OUTCOME_WAIT_MS: '5000',
      ...env,
    },
  });
  const keyring = parseKeyring(config.tokenEncryptionKeys);
  const redis = createRedisConnection(redisUrl, 'client', 'e2e');
  const producer = createRedisConnection(redisUrl, 'producer', 'e2e');
  const workerConnection = createRedisConnection(redisUrl, 'worker', 'e2e');
  const queues: Queues = createQueues({ connection: producer, prefix });
  const accounts: AccountsDeps = { prisma: db.prisma, keyring, redis, queues, queuePrefix: prefix };
  const worker = new Worker(QueueNames.accountConnected, createAccountConnectedProcessor(accounts), {
    connection: workerConnection,
    prefix,
  });
  const tiktok = createTikTokClient({
    clientKey: config.tiktok.clientKey,
    clientSecret: config.tiktok.clientSecret,
    authUrl: config.tiktok.authUrl,
    apiUrl: config.tiktok.apiUrl,
    timeoutMs: config.tiktok.timeoutMs,
    authorizeExtras: {
      disableAutoAuth: config.tiktok.disableAutoAuth,
      promptSelectAccount: config.tiktok.promptSelectAccount,
      forceAuthentication: config.tiktok.forceAuthentication,
    },
  });
  const app: FastifyInstance = await buildGateway({
    config,
    prisma: db.prisma,
    redis,
    queues,
    tiktok,
    keyring,
    logger: false,
  });
  await app.listen({ port, host: '127.0.0.1' });
  return {
    gatewayUrl,
    sandbox,
    db,
    async close() {
      await app.close();
      await worker.close();
      for (const queue of queues.all()) await queue.obliterate({ force: true }).catch(() => undefined);
      await queues.close();
      await Promise.allSettled([redis.quit(), producer.quit(), workerConnection.quit()]);
      await Promise.allSettled([sandbox.close(), db.drop()]);
    },
  };
}

async function createConnectSession(stack: Stack, userId: string): Promise<string> {
  const res = await fetch(`${stack.gatewayUrl}/v1/connect-sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId, returnTo: RETURN_TO }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { url: string };
  return body.url;
}

const sandboxHost = (stack: Stack) => new URL(stack.sandbox.url).host;
const onTikTok = (page: Page, stack: Stack) => new URL(page.url()).host === sandboxHost(stack);
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
    let stack: Stack;
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
        expect(new URL(page.url()).host).toBe(new URL(stack.gatewayUrl).host);
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

  describe('without disable_auto_auth (what every other integration does)', () => {
    let stack: Stack;
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
        expect(new URL(page.url()).host).toBe(new URL(stack.gatewayUrl).host);
        expect(await banner(page)).toMatch(/already connected/i);
        expect(await accountNames(page)).toHaveLength(1);
      } finally {
        await context.close();
      }
    });
  });
});
