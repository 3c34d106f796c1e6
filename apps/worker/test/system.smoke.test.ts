// The whole system as `pnpm dev` runs it: the real entry points of the sandbox, worker, gateway and admin, each a
// child process started by tsx from its own app folder, in development mode with no secrets given. The other tests
// build apps in-process; this one proves what only separate processes can: they generate their secrets once and
// share them (the gateway encrypts tokens the worker stores and the gateway decrypts again; the admin accepts the
// generated admin token), they find each other through configuration alone, and each stops cleanly on SIGTERM.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import { createRedisConnection } from '@ttc/queue';
import {
  browserTestsEnabled,
  freePort,
  launchChromium,
  type ServiceProcess,
  screenshotPath,
  startServiceProcess,
  waitForHttp,
} from '@ttc/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys } from './helpers.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const queuePrefix = `smoke-${randomBytes(6).toString('hex')}`;
const secretsDir = mkdtempSync(join(tmpdir(), 'ttc-smoke-'));
const secretsFile = join(secretsDir, 'secrets.json');

interface DevSecretsFile {
  gatewayApiKey: string;
  adminApiToken: string;
}

let db: TestDatabase;
let ports: { gateway: number; admin: number; worker: number; sandbox: number };
const services: ServiceProcess[] = [];
let printedOutput = false;

function printOutput(reason: string): void {
  if (printedOutput) return;
  printedOutput = true;
  // The services redact tokens, cookies and authorization headers in their own logs.
  for (const service of services) {
    console.error(`\n===== ${service.name} output (${reason}) =====\n${service.output() || '(none)'}`);
  }
}

function start(name: string, appDir: string, entry: string): ServiceProcess {
  const service = startServiceProcess({
    name,
    command: tsx,
    args: [entry],
    cwd: join(root, 'apps', appDir),
    // Only what a developer's shell would give `pnpm dev`: no keys, no tokens, no TikTok credentials.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      NODE_ENV: 'development',
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: queuePrefix,
      GATEWAY_PORT: String(ports.gateway),
      ADMIN_PORT: String(ports.admin),
      WORKER_METRICS_PORT: String(ports.worker),
      SANDBOX_PORT: String(ports.sandbox),
      DEV_SECRETS_FILE: secretsFile,
      // The worker is another process here, on a shared machine: give it time before the page says "adding…".
      CONNECT_OUTCOME_WAIT_MS: '10000',
    },
  });
  services.push(service);
  return service;
}

const gatewayUrl = () => `http://localhost:${ports.gateway}`;
const adminUrl = () => `http://127.0.0.1:${ports.admin}`;
const secrets = () => JSON.parse(readFileSync(secretsFile, 'utf8')) as DevSecretsFile;

beforeAll(async () => {
  const [database, gateway, admin, worker, sandbox] = await Promise.all([
    createTestDatabase(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  db = database;
  ports = { gateway, admin, worker, sandbox };
  const started = performance.now();
  try {
    const sandboxProcess = start('tiktok-sandbox', 'tiktok-sandbox', 'src/server.ts');
    const workerProcess = start('worker', 'worker', 'src/main.ts');
    const gatewayProcess = start('gateway', 'gateway', 'src/server.ts');
    const adminProcess = start('admin', 'admin', 'src/server.ts');
    await Promise.all([
      // The sandbox has no health route: any answer (even a 404) means it is listening.
      waitForHttp(`http://127.0.0.1:${ports.sandbox}/`, { service: sandboxProcess, timeoutMs: 45_000 }),
      waitForHttp(`http://127.0.0.1:${ports.worker}/healthz`, {
        service: workerProcess,
        timeoutMs: 45_000,
        accept: (r) => r.ok,
      }),
      waitForHttp(`http://127.0.0.1:${ports.gateway}/healthz`, {
        service: gatewayProcess,
        timeoutMs: 45_000,
        accept: (r) => r.ok,
      }),
      waitForHttp(`${adminUrl()}/healthz`, { service: adminProcess, timeoutMs: 45_000, accept: (r) => r.ok }),
    ]);
    console.log(`smoke: four services healthy ${Math.round(performance.now() - started)} ms after spawn`);
  } catch (error) {
    printOutput('start-up failed');
    throw error;
  }
}, 90_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') printOutput(`"${context.task.name}" failed`);
});

afterAll(async () => {
  // Whatever happened above, no process outlives the test file.
  for (const service of services) service.kill();
  await Promise.all(services.map((s) => Promise.race([s.exited, new Promise((r) => setTimeout(r, 5_000))])));
  const redis = createRedisConnection(redisUrl, 'client', 'smoke-cleanup');
  await deleteKeys(redis, queuePrefix).catch(() => undefined);
  redis.disconnect();
  await db?.drop();
  rmSync(secretsDir, { recursive: true, force: true });
}, 60_000);

describe('the real entry points, started as pnpm dev starts them', () => {
  it('generate development secrets once, in DEV_SECRETS_FILE, and all use them', async () => {
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    const { gatewayApiKey, adminApiToken } = secrets();

    const session = await fetch(`${gatewayUrl()}/v1/connect-sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gatewayApiKey}`, 'content-type': 'application/json' },
      // An origin the development defaults allow.
      body: JSON.stringify({ userId: 'smoke-user', returnTo: 'http://localhost:5173/settings' }),
    });
    expect(session.status).toBe(201);
    const unauthorized = await fetch(`${gatewayUrl()}/v1/connect-sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminApiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'smoke-user', returnTo: 'http://localhost:5173/settings' }),
    });
    expect(unauthorized.status).toBe(401);

    const admin = await fetch(`${adminUrl()}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminApiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ queues { name } }' }),
    });
    expect(admin.status).toBe(200);
    const refused = await fetch(`${adminUrl()}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gatewayApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ queues { name } }' }),
    });
    expect(refused.status).toBe(401);
  });

  it.skipIf(!browserTestsEnabled)(
    'connect an account in Chromium, list it in the admin API and hand out its access token',
    async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(`${gatewayUrl()}/dev`);
        await page.getByRole('button', { name: 'Connect a TikTok account' }).click();
        expect(new URL(page.url()).port).toBe(String(ports.sandbox));
        await page.getByRole('button', { name: 'Log in as Ava Martin' }).click();
        await page.getByRole('button', { name: 'Authorize' }).click();
        expect(new URL(page.url()).port).toBe(String(ports.gateway));
        const banner =
          (await page
            .locator('.banner')
            .textContent()
            .catch(() => null)) ?? (await page.content());
        if (!banner.includes('Added Ava Martin')) {
          await page.screenshot({ path: screenshotPath('system-smoke-connect.png'), fullPage: true });
        }
        expect(banner).toContain('Added Ava Martin');
      } finally {
        await browser.close();
      }

      const { gatewayApiKey, adminApiToken } = secrets();
      const listed = await fetch(`${adminUrl()}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminApiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ userAccounts(userId: "demo-user") { id status } }' }),
      });
      expect(listed.status).toBe(200);
      const { data, errors } = (await listed.json()) as {
        data?: { userAccounts: { id: string; status: string }[] };
        errors?: unknown;
      };
      expect(errors).toBeUndefined();
      expect(data?.userAccounts).toEqual([{ id: expect.any(String), status: 'ACTIVE' }]);
      const accountId = data?.userAccounts[0]?.id ?? '';

      const token = await fetch(`${gatewayUrl()}/v1/accounts/${accountId}/access-token`, {
        headers: { authorization: `Bearer ${gatewayApiKey}` },
      });
      const body = (await token.json()) as { accessToken?: string; openId?: string; error?: unknown };
      expect(token.status, JSON.stringify(body.error ?? null)).toBe(200);
      // Asserted without printing it: a failing matcher would show the token.
      expect(body.accessToken?.startsWith('act.')).toBe(true);
      expect(body.openId).toBe('sbx-open-ava');
    },
    60_000,
  );

  it('stop cleanly on SIGTERM: every process exits 0 within 20 s', async () => {
    const results = await Promise.all(
      services.map(async (service) => ({ name: service.name, result: await service.stop('SIGTERM', 20_000) })),
    );
    const summary = results.map(({ name, result }) =>
      result ? `${name}: code ${result.code}, signal ${result.signal}, ${result.ms} ms` : `${name}: still running`,
    );
    console.log(`smoke: shutdown ${summary.join('; ')}`);
    expect(results.map(({ name, result }) => [name, result?.code])).toEqual(services.map((s) => [s.name, 0]));
  }, 30_000);
});
