import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connectThroughTikTok, createTestAccounts, makeTestConnection, type TestAccounts } from '@ttc/accounts/testing';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import type { RedisClient } from '@ttc/queue';
import { createQueues, createRedisConnection, QueueNames, type Queues } from '@ttc/queue';
import { freePort, startServiceProcess, waitForHttp } from '@ttc/testing';
import { createTikTokClient } from '@ttc/tiktok';
import { type SandboxHandle, startSandbox } from '@ttc/tiktok-sandbox';
import { createWebhookDeliverer, type WebhookDeliverer } from '@ttc/webhooks';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWorkerMetrics, type WorkerMetrics } from '../src/metrics.js';
import { startReconciler } from '../src/reconciler.js';
import { type BuiltWorker, buildWorker } from '../src/worker.js';
import { deleteKeys } from './helpers.js';
import { type ReceivedWebhook, startReceiver, type TestReceiver } from './webhook-receiver.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyEntry = generateKeyringEntry();
const keyring = parseKeyring(keyEntry);
const logger = pino({ level: 'silent' });
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
// Two secrets: a rotation in progress. The first signs; both are sent.
const secrets = [newSecret(), newSecret()];
let db: TestDatabase;
let sandbox: SandboxHandle;
let prefix: string;
let offsetMs = 0;
const now = () => Date.now() + offsetMs;
const cleanups: (() => Promise<unknown>)[] = [];

interface Harness {
  accounts: TestAccounts;
  deliverer: WebhookDeliverer;
  queues: Queues;
  redis: RedisClient;
  metrics: WorkerMetrics;
  startWorker(): BuiltWorker;
}

function harness(endpoints: string[]): Harness {
  const redis = createRedisConnection(redisUrl, 'client', 'webhooks-test');
  const producer = createRedisConnection(redisUrl, 'producer', 'webhooks-test');
  const queues = createQueues({ connection: producer, prefix });
  const metrics = createWorkerMetrics({ defaultMetrics: false });
  const accounts = createTestAccounts({
    prisma: db.prisma,
    keyring,
    redis,
    queues,
    queuePrefix: prefix,
    tiktok: createTikTokClient({
      ...sandbox.clientOptions,
      timeoutMs: 3_000,
      now,
    }),
    webhooks: { endpoints },
    now,
  });
  // Real time for signing (receivers check the timestamp); short backoff instead of minutes.
  const deliverer = createWebhookDeliverer({
    prisma: db.prisma,
    queues,
    redis,
    endpoints,
    secrets,
    retry: { baseMs: 50, maxMs: 200 },
    timeoutMs: 2_000,
  });
  const h: Harness = {
    accounts,
    deliverer,
    queues,
    redis,
    metrics,
    startWorker() {
      const connection = createRedisConnection(redisUrl, 'worker', 'webhooks-test');
      const built = buildWorker({
        accounts,
        webhooks: deliverer,
        connection,
        prefix,
        concurrency: 5,
        logger,
        metrics,
        queues: [QueueNames.webhookDeliver],
        closeTimeoutMs: 3_000,
      });
      cleanups.unshift(async () => {
        await built.close();
        connection.disconnect();
      });
      return built;
    },
  };
  cleanups.push(async () => {
    for (const queue of queues.all()) await queue.obliterate({ force: true }).catch(() => undefined);
    await deleteKeys(redis, prefix);
    await queues.close();
    redis.disconnect();
    producer.disconnect();
  });
  return h;
}

async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<TestReceiver> {
  const r = await startReceiver(answer);
  cleanups.push(() => r.close());
  return r;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const deliveries = () =>
  db.prisma.webhookDelivery.findMany({
    include: { event: true },
    orderBy: [{ createdAt: 'asc' }, { endpoint: 'asc' }],
  });

/** Verifies with the reference library (not the code under test), once per secret of the rotation. */
function verify(request: ReceivedWebhook): unknown {
  const headers = {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
  const payloads = secrets.map((secret) => new Webhook(secret).verify(request.body, headers));
  expect(payloads[0]).toEqual(payloads[1]);
  return payloads[0];
}

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 10 });
  sandbox = await startSandbox({ port: 0 });
});

afterAll(async () => {
  await sandbox?.close();
  await db?.drop();
});

beforeEach(async () => {
  prefix = `t${randomBytes(8).toString('hex')}`;
  offsetMs = 0;
  await sandbox.control.reset();
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.shift()?.();
  await db.prisma.webhookEvent.deleteMany();
  await db.prisma.webhookEndpointGone.deleteMany();
  await db.prisma.accountEvent.deleteMany();
  await db.prisma.socialAccount.deleteMany();
});

describe('signed webhooks from the outbox', () => {
  it('delivers every event type once to each endpoint, signed for every secret, with no token in any body', {
    timeout: 60_000,
  }, async () => {
    const [a, b] = [await receiver(), await receiver()];
    const h = harness([a.url, b.url]);
    h.startWorker();
    const secretsSeen: string[] = [];

    // account.connected, then account.reconnected (the same TikTok account again, newer tokens).
    const first = await connectThroughTikTok(h.accounts, sandbox.control, { openId: 'sbx-open-ava' });
    offsetMs += 1_000;
    const again = await connectThroughTikTok(h.accounts, sandbox.control, {
      openId: 'sbx-open-ava',
      userId: first.userId,
    });
    secretsSeen.push(first.tokens.accessToken, first.tokens.refreshToken, again.tokens.accessToken);
    secretsSeen.push(again.tokens.refreshToken);
    const accountId = first.accountId;

    // account.recovered: the access token expires while refreshes fail, then a refresh succeeds.
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'http_500', times: 1 });
    await (async () => {
      offsetMs += 2 * 86_400_000;
      await sandbox.control.advanceTime(2 * 86_400);
    })();
    expect((await h.accounts.refresh(accountId, { reason: 'manual', force: true, schedule: false })).outcome).toBe(
      'failed',
    );
    const recovered = await h.accounts.refresh(accountId, { reason: 'manual', force: true, schedule: false });
    expect(recovered.outcome).toBe('refreshed');

    // account.reauth_required: TikTok refuses the refresh token.
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'invalid_grant', times: 1 });
    expect((await h.accounts.refresh(accountId, { reason: 'manual', force: true, schedule: false })).outcome).toBe(
      'reauth_required',
    );

    // account.disconnected, by the upstream app, with its reason.
    await h.accounts.disconnect({ accountId, actor: 'upstream', reason: 'user closed their workspace' });

    // account.refresh_token_expiring: a connection whose refresh token expires within the warning window.
    const expiring = makeTestConnection(keyring, {
      refreshTokenExpiresAt: new Date(now() + 2 * 86_400_000).toISOString(),
      obtainedAt: new Date(now()).toISOString(),
    });
    secretsSeen.push(expiring.accessToken, expiring.refreshToken, expiring.payload.accessTokenCiphertext);
    await h.accounts.applyConnection(expiring.payload);

    // user.erased, through the erasure itself (a user with one account, connected before webhooks were configured).
    const gone = makeTestConnection(keyring, { userId: 'user-gone' });
    await harness([]).accounts.applyConnection(gone.payload);
    secretsSeen.push(gone.accessToken, gone.refreshToken);
    expect(await h.accounts.eraseUser('user-gone')).toMatchObject({ erasedAccounts: 1 });

    const expected = [
      'account.connected',
      'account.reconnected',
      'account.recovered',
      'account.reauth_required',
      'account.disconnected',
      'account.connected',
      'account.refresh_token_expiring',
      'user.erased',
    ];
    await a.waitFor(expected.length);
    await b.waitFor(expected.length);
    const log = await waitFor('every delivery delivered', async () => {
      const rows = await deliveries();
      return rows.length === expected.length * 2 && rows.every((d) => d.state === 'DELIVERED') && rows;
    });
    expect(log.every((d) => d.attempts === 1 && d.lastStatus === 204)).toBe(true);

    for (const r of [a, b]) {
      expect(r.received.map((x) => x.json.type).sort()).toEqual([...expected].sort());
      expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).toBe(expected.length);
      for (const request of r.received) {
        expect(verify(request)).toEqual(request.json);
        expect(request.headers['content-type']).toBe('application/json');
        expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
        for (const secret of secretsSeen) expect(request.body).not.toContain(secret);
        expect(request.body).not.toMatch(/ciphertext|accessToken|refreshToken|whsec_/i);
      }
    }
    // The same event reaches both endpoints under the same webhook-id.
    expect(a.received.map((x) => x.headers['webhook-id']).sort()).toEqual(
      b.received.map((x) => x.headers['webhook-id']).sort(),
    );

    const byType = (type: string) => a.received.filter((x) => x.json.type === type).map((x) => x.json.data);
    expect(byType('account.connected')[0]).toMatchObject({
      accountId,
      userId: first.userId,
      openId: 'sbx-open-ava',
      displayName: 'Sandbox Account',
      status: 'ACTIVE',
      connectSessionId: expect.stringMatching(/^cs_/),
    });
    expect(byType('account.disconnected')[0]).toMatchObject({
      accountId,
      status: 'DISCONNECTED',
      actor: 'upstream',
      reason: 'user closed their workspace',
    });
    expect(byType('account.reauth_required')[0]).toMatchObject({ accountId, status: 'REAUTH_REQUIRED' });
    expect(byType('account.recovered')[0]).toMatchObject({ accountId, status: 'ACTIVE' });
    expect(byType('user.erased')[0]).toEqual({
      userId: 'user-gone',
      erasedAccounts: 1,
      occurredAt: expect.any(String),
    });
    const metrics = await h.metrics.registry.metrics();
    expect(metrics).toMatch(/ttc_webhook_deliveries_total\{type="user.erased",result="delivered"[^}]*\} 2/);
    expect(metrics).toMatch(/ttc_webhook_delivery_duration_seconds_count\{[^}]*type="account.connected"[^}]*\} 4/);
  });

  it('retries a failing receiver with the same webhook-id until it answers 2xx', async () => {
    const r = await receiver((_req, i) => (i < 2 ? 500 : 200));
    const h = harness([r.url]);
    h.startWorker();
    await h.accounts.applyConnection(makeTestConnection(keyring).payload);
    const received = await r.waitFor(3);
    expect(received.map((x) => x.headers['webhook-id'])).toEqual(Array(3).fill(received[0]?.headers['webhook-id']));
    for (const request of received) verify(request);
    const [delivery] = await waitFor('delivered', async () => {
      const rows = await deliveries();
      return rows[0]?.state === 'DELIVERED' && rows;
    });
    expect(delivery).toMatchObject({ attempts: 3, lastStatus: 200, lastError: null, nextAttemptAt: null });
    expect(await h.metrics.registry.metrics()).toMatch(
      /ttc_webhook_deliveries_total\{type="account.connected",result="retry"[^}]*\} 2/,
    );
  });

  it('stops sending to an endpoint that answers 410 and flags it, while the other endpoint still receives', async () => {
    const gone = await receiver(() => 410);
    const ok = await receiver();
    const h = harness([gone.url, ok.url]);
    h.startWorker();
    const connection = makeTestConnection(keyring);
    const { accountId } = await h.accounts.applyConnection(connection.payload);
    await waitFor('the 410 recorded', async () =>
      (await deliveries()).some((d) => d.endpoint === gone.url && d.state === 'ENDPOINT_GONE'),
    );
    await h.accounts.disconnect({ accountId, actor: 'user' });
    await ok.waitFor(2);
    const log = await waitFor('both deliveries to the gone endpoint settled', async () => {
      const rows = (await deliveries()).filter((d) => d.endpoint === gone.url);
      return rows.length === 2 && rows.every((d) => d.state === 'ENDPOINT_GONE') && rows;
    });
    expect(gone.received).toHaveLength(1);
    expect(log.map((d) => d.attempts)).toEqual([1, 0]);
    expect(await db.prisma.webhookEndpointGone.findMany()).toEqual([
      expect.objectContaining({ endpoint: gone.url, deliveryId: log[0]?.id }),
    ]);
    expect(ok.received.map((x) => x.json.type)).toEqual(['account.connected', 'account.disconnected']);
  });

  it('loses no pending delivery when every key of the queue is deleted: the sweeper re-enqueues it', async () => {
    const r = await receiver();
    const h = harness([r.url]);
    await h.accounts.applyConnection(makeTestConnection(keyring).payload);
    expect(await h.queues.webhookDeliver.getJobCounts('waiting')).toEqual({ waiting: 1 });
    await deleteKeys(h.redis, prefix); // "FLUSHALL", for this test's keys
    h.startWorker();
    const reconciler = startReconciler({ accounts: h.accounts, webhooks: h.deliverer, intervalMs: 60_000, logger });
    cleanups.unshift(() => reconciler.stop());
    const [request] = await r.waitFor(1);
    verify(request as ReceivedWebhook);
    const [event] = await db.prisma.webhookEvent.findMany();
    expect(request?.headers['webhook-id']).toBe(event?.id);
    // Nothing pending: the sweep finds nothing more to restore.
    await waitFor('delivered', async () => (await deliveries())[0]?.state === 'DELIVERED');
    expect(await h.deliverer.sweep()).toEqual({ scanned: 0, added: 0, replacedFailed: 0 });
  });

  it('redelivers a delivered webhook with the same webhook-id', async () => {
    const r = await receiver();
    const h = harness([r.url]);
    h.startWorker();
    await h.accounts.applyConnection(makeTestConnection(keyring).payload);
    await r.waitFor(1);
    const [delivery] = await waitFor('delivered', async () => {
      const rows = await deliveries();
      return rows[0]?.state === 'DELIVERED' && rows;
    });
    const row = await h.deliverer.redeliver(delivery?.id as string);
    expect(row).toMatchObject({ id: delivery?.id, state: 'PENDING' });
    const [firstTime, secondTime] = await r.waitFor(2);
    expect(secondTime?.headers['webhook-id']).toBe(firstTime?.headers['webhook-id']);
    expect(await h.deliverer.redeliver(randomUUID())).toBeNull();
  });

  it('records nothing when no endpoint is configured', async () => {
    const h = harness([]);
    const { accountId } = await h.accounts.applyConnection(makeTestConnection(keyring).payload);
    await h.accounts.disconnect({ accountId, actor: 'admin' });
    expect(await db.prisma.webhookEvent.count()).toBe(0);
    expect(await h.queues.webhookDeliver.count()).toBe(0);
  });
});

describe('user.erased in the outbox (SQL)', () => {
  it('records the erasure with one delivery per endpoint and removes the user’s earlier webhook events', async () => {
    const h = harness(['https://a.example.test/hooks', 'https://b.example.test/hooks']);
    const c = makeTestConnection(keyring, { userId: 'user-erase-me' });
    const other = makeTestConnection(keyring, { userId: 'user-stays' });
    await h.accounts.applyConnection(c.payload);
    await h.accounts.applyConnection(other.payload);
    const ids = await db.prisma.$transaction((tx) =>
      h.accounts.outbox.recordUserErased(tx, { userId: 'user-erase-me', erasedAccounts: 1, at: new Date() }),
    );
    expect(ids).toHaveLength(2);
    const events = await db.prisma.webhookEvent.findMany({ include: { deliveries: true } });
    const mentions = events.filter((e) => JSON.stringify(e.data).includes('user-erase-me'));
    expect(mentions.map((e) => e.type)).toEqual(['user.erased']);
    expect(mentions[0]?.data).toEqual({ userId: 'user-erase-me', erasedAccounts: 1, occurredAt: expect.any(String) });
    expect(mentions[0]?.deliveries.map((d) => d.id).sort()).toEqual([...ids].sort());
    expect(events.filter((e) => JSON.stringify(e.data).includes('user-stays'))).toHaveLength(1);
    // A rolled-back erasure leaves no user.erased behind.
    await expect(
      db.prisma.$transaction(async (tx) => {
        await h.accounts.outbox.recordUserErased(tx, { userId: 'user-stays', erasedAccounts: 1, at: new Date() });
        throw new Error('erasure failed');
      }),
    ).rejects.toThrow('erasure failed');
    expect(await db.prisma.webhookEvent.count({ where: { type: 'user.erased' } })).toBe(1);
  });
});

describe('worker process', () => {
  const appDir = fileURLToPath(new URL('..', import.meta.url));

  async function startWorkerProcess(webhookUrl: string) {
    const port = await freePort();
    const service = startServiceProcess({
      name: 'worker',
      command: process.execPath,
      args: ['--import', 'tsx', 'src/main.ts'],
      cwd: appDir,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        WORKER_METRICS_PORT: String(port),
        TOKEN_ENCRYPTION_KEYS: keyEntry,
        WEBHOOK_URLS: webhookUrl,
        WEBHOOK_SECRETS: secrets.join(','),
        LOG_LEVEL: 'info',
      },
    });
    cleanups.unshift(async () => service.kill());
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { service, accept: (res) => res.status === 200 });
    return service;
  }

  it('delivers after a worker is SIGKILLed mid-delivery and Redis loses the job: a new worker’s sweep sends it', {
    timeout: 90_000,
  }, async () => {
    let hold = true;
    const r = await receiver(() => (hold ? 'hold' : 204));
    const h = harness([r.url]);
    const first = await startWorkerProcess(r.url);
    await h.accounts.applyConnection(makeTestConnection(keyring).payload);
    const [inFlight] = await r.waitFor(1, 30_000);
    first.kill();
    await first.exited;
    expect((await deliveries())[0]).toMatchObject({ state: 'PENDING', attempts: 0 });
    await deleteKeys(h.redis, prefix);
    hold = false;
    await startWorkerProcess(r.url);
    const [, delivered] = await r.waitFor(2, 30_000);
    expect(delivered?.headers['webhook-id']).toBe(inFlight?.headers['webhook-id']);
    verify(delivered as ReceivedWebhook);
    await waitFor('delivered', async () => (await deliveries())[0]?.state === 'DELIVERED');
  });
});
