import { randomUUID } from 'node:crypto';
import { type Accounts, createAccounts } from '@ttc/accounts';
import { makeTestConnection } from '@ttc/accounts/testing';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import type { RedisClient } from '@ttc/queue';
import {
  connectSessionKey,
  createQueues,
  createRedisConnection,
  enqueueAccountConnected,
  jobIds,
  QueueNames,
  type Queues,
  readConnectResult,
} from '@ttc/queue';
import type { Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { createWorkerMetrics, type WorkerMetrics } from '../src/metrics.js';
import { type BuiltWorker, buildWorker, type WorkerDeps } from '../src/worker.js';
import { deleteKeys, dumpKeys, fragmentsOf } from './helpers.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-${randomUUID()}`;
const keyring = parseKeyring(generateKeyringEntry());
const logger = createLogger({ level: 'silent' });
let db: TestDatabase;
let workerConnection: RedisClient;
let redis: RedisClient;
let producer: RedisClient;
let queues: Queues;
let accounts: Accounts;
let metrics: WorkerMetrics;
const started: BuiltWorker[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  workerConnection = createRedisConnection(redisUrl, 'worker', 'worker-test');
  redis = createRedisConnection(redisUrl, 'client', 'worker-test');
  producer = createRedisConnection(redisUrl, 'producer', 'worker-test');
  queues = createQueues({ connection: producer, prefix });
  accounts = createAccounts({ prisma: db.prisma, keyring, redis, queues, queuePrefix: prefix, logger });
});

afterEach(async () => {
  while (started.length > 0) await started.pop()?.close();
});

afterAll(async () => {
  for (const queue of queues?.all() ?? []) await queue.obliterate({ force: true });
  await queues?.close();
  await deleteKeys(redis, prefix);
  workerConnection?.disconnect();
  redis?.disconnect();
  producer?.disconnect();
  await db?.drop();
});

async function startWorker(overrides: Partial<WorkerDeps> = {}): Promise<BuiltWorker> {
  metrics = createWorkerMetrics({ defaultMetrics: false });
  const built = buildWorker({
    accounts,
    connection: workerConnection,
    prefix,
    concurrency: 5,
    logger,
    metrics,
    ...overrides,
  });
  started.push(built);
  await Promise.all(built.workers.map((w) => w.waitUntilReady()));
  return built;
}

/** Resolves with the job when the worker reports it finished (completed or failed), whichever comes first. */
function settled(
  built: BuiltWorker,
  jobId: string,
): Promise<{ state: 'completed' | 'failed'; job: Job; error?: Error }> {
  const [worker] = built.workers;
  return new Promise((resolve) => {
    worker?.on('completed', (job) => {
      if (job.id === jobId) resolve({ state: 'completed', job });
    });
    worker?.on('failed', (job, error) => {
      if (job?.id === jobId) resolve({ state: 'failed', job, error });
    });
  });
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const metricValue = async (name: string, labels: Record<string, string>) => {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = (metric?.values as { labels: Record<string, string>; value: number }[] | undefined)?.find((v) =>
    Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  );
  return value?.value ?? 0;
};

describe('account.connected worker', () => {
  it('processes an enqueued connection end to end into Postgres and leaves the outcome for the gateway', async () => {
    const built = await startWorker();
    const { payload } = makeTestConnection(keyring);
    // The user's connect session, as the gateway created it: the outcome is left there for the connect page.
    await redis.hset(connectSessionKey(prefix, payload.connectSessionId), { userId: payload.userId });
    await redis.expire(connectSessionKey(prefix, payload.connectSessionId), 600);
    const done = settled(built, jobIds.accountConnected(payload.connectionId));
    await enqueueAccountConnected(queues, payload);
    const result = await done;

    expect(result.state).toBe('completed');
    const row = await db.prisma.socialAccount.findFirstOrThrow({ where: { userId: payload.userId } });
    expect(row).toMatchObject({
      openId: payload.openId,
      status: 'ACTIVE',
      accessTokenCiphertext: payload.accessTokenCiphertext,
      refreshTokenCiphertext: payload.refreshTokenCiphertext,
    });
    expect(result.job.returnvalue).toMatchObject({ accountId: row.id, outcome: 'added' });
    expect(await readConnectResult(redis, prefix, payload.connectSessionId, payload.connectionId)).toMatchObject({
      kind: 'done',
      outcome: 'added',
    });
    expect(await metricValue('ttc_worker_jobs_processed_total', { queue: QueueNames.accountConnected })).toBe(1);
    const duration = (await metrics.registry.getSingleMetricAsString('ttc_worker_job_duration_seconds')).toString();
    expect(duration).toMatch(/ttc_worker_job_duration_seconds_count\{[^}]*status="completed"[^}]*\} 1/);
  });

  it('leaves no key of the job and no trace of the tokens in Redis once processed', async () => {
    const { payload, accessToken, refreshToken } = makeTestConnection(keyring);
    const jobId = jobIds.accountConnected(payload.connectionId);
    // The queue is paused while the job is looked at: with a running worker, a fast pickup could finish the job
    // before the scan (seen under load), and the scan must be shown able to see a job at all.
    await queues.accountConnected.pause();
    await enqueueAccountConnected(queues, payload);
    // While queued, the job is there (so the scan below can see jobs at all), holding ciphertext only.
    const whileQueued = await dumpKeys(redis, prefix);
    expect([...whileQueued.keys()].some((k) => k.includes(jobId))).toBe(true);
    const built = await startWorker();
    const done = settled(built, jobId);
    await queues.accountConnected.resume();
    expect((await done).state).toBe('completed');

    const dump = await dumpKeys(redis, prefix);
    expect(dump.size).toBeGreaterThan(0);
    const jobKey = `${prefix}:${QueueNames.accountConnected}:${jobId}`;
    expect([...dump.keys()].filter((k) => k === jobKey || k.startsWith(`${jobKey}:`))).toEqual([]);
    const everything = [...dump.entries()].map(([k, v]) => `${k}\n${v}`).join('\n');
    for (const fragment of [...fragmentsOf(accessToken), ...fragmentsOf(refreshToken)]) {
      expect(everything).not.toContain(fragment);
    }
    expect(everything).not.toContain(payload.accessTokenCiphertext);
    expect(everything).not.toContain(payload.refreshTokenCiphertext);
    expect(await queues.accountConnected.getJob(jobId)).toBeUndefined();
  });

  it('fails a malformed payload at once, without retries', async () => {
    const built = await startWorker();
    const { payload, accessToken } = makeTestConnection(keyring);
    // A producer bug the shared producer would have caught: a clear token where ciphertext belongs.
    const bad = { ...payload, accessTokenCiphertext: accessToken, displayName: 42 };
    const jobId = `bad-${randomUUID()}`;
    const done = settled(built, jobId);
    await queues.accountConnected.add(QueueNames.accountConnected, bad as never, { jobId });
    const result = await done;

    expect(result.state).toBe('failed');
    expect(result.error?.name).toBe('UnrecoverableError');
    expect(result.error?.message).toContain('accessTokenCiphertext');
    expect(result.error?.message).not.toContain(accessToken);
    const job = await queues.accountConnected.getJob(jobId);
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
    expect(job?.opts.attempts).toBeGreaterThan(1);
    expect(
      await metricValue('ttc_worker_jobs_failed_total', { queue: QueueNames.accountConnected, retry: 'false' }),
    ).toBe(1);
    expect(await db.prisma.socialAccount.count({ where: { userId: payload.userId } })).toBe(0);
    await job?.remove();
  });

  it('tells the connect page when a connection fails for good, instead of leaving it on "Adding…"', async () => {
    const built = await startWorker();
    const { payload } = makeTestConnection(keyring);
    await redis.hset(connectSessionKey(prefix, payload.connectSessionId), { userId: payload.userId });
    await redis.expire(connectSessionKey(prefix, payload.connectSessionId), 600);
    const bad = { ...payload, scopes: 'not-a-list' };
    const jobId = `bad-${randomUUID()}`;
    const done = settled(built, jobId);
    await queues.accountConnected.add(QueueNames.accountConnected, bad as never, { jobId });
    expect((await done).state).toBe('failed');

    const result = await readConnectResult(redis, prefix, payload.connectSessionId, payload.connectionId);
    expect(result).toMatchObject({ kind: 'failed', reason: expect.stringContaining('could not save') });
    await (await queues.accountConnected.getJob(jobId))?.remove();
  });
});

describe('graceful close', () => {
  /** Holds the account's row lock, so that a job reconnecting it waits inside the worker until `release()`. */
  async function lockAccount(accountId: string) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const transaction = db.prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT 1 FROM social_accounts WHERE id = ${accountId}::uuid FOR UPDATE`;
        locked();
        await released;
      },
      { timeout: 30_000 },
    );
    await isLocked;
    return {
      release: async () => {
        release();
        await transaction;
      },
    };
  }

  async function connectedAccount() {
    const first = makeTestConnection(keyring, { obtainedAt: new Date(Date.now() - 60_000).toISOString() });
    const { accountId } = await accounts.applyConnection(first.payload);
    const again = makeTestConnection(keyring, { userId: first.payload.userId, openId: first.payload.openId });
    return { accountId, payload: again.payload };
  }

  it('waits for an in-flight job before closing', { timeout: 20_000 }, async () => {
    const built = await startWorker({ closeTimeoutMs: 10_000 });
    const { accountId, payload } = await connectedAccount();
    const lock = await lockAccount(accountId);
    await enqueueAccountConnected(queues, payload);
    await until(() => built.inFlight() === 1);
    expect(built.inFlight()).toBe(1);

    let closedAt = 0;
    const t0 = Date.now();
    const closing = built.close().then((result) => {
      closedAt = Date.now();
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(closedAt).toBe(0);
    await lock.release();
    const result = await closing;

    expect(result).toEqual({ forced: false, returnedToQueue: 0 });
    expect(closedAt - t0).toBeGreaterThanOrEqual(400);
    const row = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: accountId } });
    expect(row.accessTokenCiphertext).toBe(payload.accessTokenCiphertext);
    expect(await queues.accountConnected.getJob(jobIds.accountConnected(payload.connectionId))).toBeUndefined();
  });

  it('puts a job that outlives the close timeout back in the queue, and a new worker finishes it', {
    timeout: 20_000,
  }, async () => {
    const built = await startWorker({ closeTimeoutMs: 300 });
    const { accountId, payload } = await connectedAccount();
    const jobId = jobIds.accountConnected(payload.connectionId);
    const lock = await lockAccount(accountId);
    await enqueueAccountConnected(queues, payload);
    await until(() => built.inFlight() === 1);

    const t0 = Date.now();
    const result = await built.close();
    const elapsed = Date.now() - t0;

    expect(result).toEqual({ forced: true, returnedToQueue: 1 });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);
    expect(await (await queues.accountConnected.getJob(jobId))?.getState()).toBe('waiting');

    await lock.release();
    const next = await startWorker();
    const done = settled(next, jobId);
    expect((await done).state).toBe('completed');
    const row = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: accountId } });
    expect(row.accessTokenCiphertext).toBe(payload.accessTokenCiphertext);
    // The abandoned attempt and the new one applied the same connection: one RECONNECTED event.
    const events = await db.prisma.accountEvent.findMany({ where: { accountId, type: 'RECONNECTED' } });
    expect(events).toHaveLength(1);
  });
});
