import { randomUUID } from 'node:crypto';
import { tokenAad } from '@ttc/accounts';
import { connectThroughTikTok, createTestAccounts, makeTestConnection, type TestAccounts } from '@ttc/accounts/testing';
import { decryptToken, generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import type { RedisClient } from '@ttc/queue';
import { createQueues, createRedisConnection, jobIds, type Queues } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { type SandboxHandle, startSandbox } from '@ttc/tiktok-sandbox';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../src/metrics.js';
import { startReconciler } from '../src/reconciler.js';
import { type BuiltWorker, buildWorker } from '../src/worker.js';
import { deleteKeys } from './helpers.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyring = parseKeyring(generateKeyringEntry());
const logger = pino({ level: 'silent' });
let db: TestDatabase;
let sandbox: SandboxHandle;

/** One simulated worker process: its own connections, queues, deps (and so its own single-flight map). */
interface Proc {
  deps: TestAccounts;
  queues: Queues;
  connections: RedisClient[];
  built?: BuiltWorker;
}

let prefix: string;
let procs: Proc[] = [];
/** The test's clock: every simulated process and the sandbox read it, so time moves without sleeping. */
let offsetMs = 0;
const now = () => Date.now() + offsetMs;

/** Moves every clock of the test (the account services', the TikTok clients' and the sandbox's) forward. */
async function advance(ms: number) {
  offsetMs += ms;
  await sandbox.control.advanceTime(ms / 1000);
}

/** Makes the account's delayed refresh job run now, as its timer would at the (moved) due time. */
async function fireRefreshJob(proc: Proc, accountId: string) {
  const job = await proc.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
  if ((await job?.getState()) === 'delayed') await job?.promote().catch(() => undefined);
}

function makeProc(): Proc {
  const redis = createRedisConnection(redisUrl, 'client', 'lifecycle-worker-test');
  const producer = createRedisConnection(redisUrl, 'producer', 'lifecycle-worker-test');
  const queues = createQueues({ connection: producer, prefix });
  const deps = createTestAccounts({
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
    lifecycle: { retryBaseMs: 200, retryMaxMs: 2_000 },
    now,
  });
  const proc: Proc = { deps, queues, connections: [redis, producer] };
  procs.push(proc);
  return proc;
}

function startWorker(proc: Proc): BuiltWorker {
  const connection = createRedisConnection(redisUrl, 'worker', 'lifecycle-worker-test');
  proc.connections.push(connection);
  proc.built = buildWorker({
    accounts: proc.deps,
    connection,
    prefix,
    concurrency: 10,
    logger,
    metrics: createWorkerMetrics({ defaultMetrics: false }),
    closeTimeoutMs: 5_000,
  });
  return proc.built;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventsOf(accountId: string) {
  return db.prisma.accountEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
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
  // Each test its own queues: jobs of earlier tests (whose sandbox tokens were reset) never run here.
  prefix = `test-${randomUUID()}`;
  procs = [];
  offsetMs = 0;
  await sandbox.control.reset();
});

afterEach(async () => {
  for (const proc of procs) await proc.built?.close();
  const first = procs[0];
  if (first) {
    for (const queue of first.queues.all()) await queue.obliterate({ force: true }).catch(() => undefined);
    await deleteKeys(first.connections[0] as RedisClient, prefix);
  }
  for (const proc of procs) {
    await proc.queues.close();
    for (const c of proc.connections) c.disconnect();
  }
  // Each test starts from an empty database: an account left ACTIVE by an earlier test would share its TikTok
  // account (open id) with the next test's and, rightly, keep the disconnect from revoking at TikTok.
  await db.prisma.accountEvent.deleteMany();
  await db.prisma.socialAccount.deleteMany();
});

describe('token.refresh worker', () => {
  it('refreshes a 5-second token before expiry several times in a row, always with the rotated refresh token', async () => {
    const proc = makeProc();
    await sandbox.control.setLifetimes({ accessTokenTtlSeconds: 5 });
    const { accountId, tokens } = await connectThroughTikTok(proc.deps, sandbox.control, { openId: 'sbx-open-ava' });
    startWorker(proc);

    // Four times: move the clocks to the refresh's due time and let the job's timer fire; no real waiting for expiry.
    for (let n = 1; n <= 4; n++) {
      const due = (await proc.deps.readTokenRow(accountId))?.nextRefreshAt?.getTime() ?? now();
      await advance(Math.max(0, due - now()));
      await fireRefreshJob(proc, accountId);
      await waitFor(
        `refresh ${n}`,
        async () => (await eventsOf(accountId)).filter((e) => e.type === 'REFRESHED').length >= n,
        10_000,
      );
    }

    const calls = await sandbox.control.calls({ endpoint: 'refresh', openId: 'sbx-open-ava' });
    expect(calls.length).toBeGreaterThanOrEqual(4);
    for (const call of calls) {
      expect(call).toMatchObject({ status: 200 });
      expect(call.refreshTokenReused).not.toBe(true);
      expect(call.error).toBeUndefined();
    }
    // Each refresh happened before the access token it replaced expired.
    const refreshed = (await eventsOf(accountId)).filter((e) => e.type === 'REFRESHED');
    let previousExpiry = tokens.accessTokenExpiresAt.getTime();
    for (const event of refreshed) {
      expect(event.createdAt.getTime()).toBeLessThan(previousExpiry);
      previousExpiry = new Date((event.data as { accessTokenExpiresAt: string }).accessTokenExpiresAt).getTime();
    }
    const row = await proc.deps.readTokenRow(accountId);
    expect(row?.status).toBe('ACTIVE');
    // The stored token is TikTok's newest: the sandbox accepts it.
    const stored = decryptToken(keyring, row?.accessTokenCiphertext ?? '', tokenAad(row ?? { userId: '', openId: '' }));
    await expect(proc.deps.tiktok?.getUserInfo(stored)).resolves.toMatchObject({ openId: 'sbx-open-ava' });
  });

  it('two workers at once, with duplicate triggers, never refresh the same account twice for one expiry', async () => {
    const a = makeProc();
    const b = makeProc();
    await sandbox.control.setLifetimes({ accessTokenTtlSeconds: 5 });
    const openIds = ['sbx-open-ben', 'sbx-open-chloe', 'sbx-open-dev'];
    const accounts: { openId: string; accountId: string }[] = [];
    for (const openId of openIds) {
      accounts.push({ openId, ...(await connectThroughTikTok(a.deps, sandbox.control, { openId })) });
    }
    startWorker(a);
    startWorker(b);
    const reconcilers = [a, b].map((p) => startReconciler({ accounts: p.deps, intervalMs: 500, logger }));

    // Three expiries of 5-second tokens, the clocks moved to each due time. Meanwhile both "processes" keep asking
    // for a scheduled refresh of every account, as duplicate jobs would, and both workers' timers fire.
    for (let round = 1; round <= 3; round++) {
      const rows = await Promise.all(accounts.map((acc) => a.deps.readTokenRow(acc.accountId)));
      const due = Math.max(...rows.map((r) => r?.nextRefreshAt?.getTime() ?? now()));
      await advance(Math.max(0, due - now()));
      const nudges = [a, b].map(async (p) => {
        for (let i = 0; i < 5; i++) {
          await Promise.all(accounts.map((acc) => p.deps.refresh(acc.accountId, { reason: 'scheduled' })));
          await Promise.all(accounts.map((acc) => fireRefreshJob(p, acc.accountId)));
        }
      });
      await Promise.all(nudges);
      for (const acc of accounts) {
        await waitFor(
          `round ${round} of ${acc.openId}`,
          async () => (await eventsOf(acc.accountId)).filter((e) => e.type === 'REFRESHED').length >= round,
          10_000,
        );
      }
    }
    for (const r of reconcilers) await r.stop();

    for (const acc of accounts) {
      const calls = await sandbox.control.calls({ endpoint: 'refresh', openId: acc.openId });
      expect(calls.every((c) => c.status === 200 && c.refreshTokenReused !== true)).toBe(true);
      const refreshed = (await eventsOf(acc.accountId)).filter((e) => e.type === 'REFRESHED');
      // Three expiries of 5-second tokens refreshed ~1.25 s before expiry: 3 refreshes, never two per token.
      expect(refreshed.length).toBe(calls.length);
      expect(refreshed.length).toBeGreaterThanOrEqual(2);
      expect(refreshed.length).toBeLessThanOrEqual(5);
      for (let i = 1; i < refreshed.length; i++) {
        const gap = (refreshed[i]?.createdAt.getTime() ?? 0) - (refreshed[i - 1]?.createdAt.getTime() ?? 0);
        expect(gap).toBeGreaterThan(2_500);
      }
      expect((await a.deps.readTokenRow(acc.accountId))?.status).toBe('ACTIVE');
    }
  });

  it('invalid_grant → REAUTH_REQUIRED with one call and no retries; the job ends', async () => {
    const proc = makeProc();
    const { accountId } = await connectThroughTikTok(proc.deps, sandbox.control, { openId: 'sbx-open-emi' });
    await sandbox.control.injectFailure({
      endpoint: 'refresh',
      kind: 'invalid_grant',
      times: Number.POSITIVE_INFINITY,
    });
    startWorker(proc);
    await proc.deps.refreshJobs.requestNow(accountId); // the admin's "refresh now"

    await waitFor(
      'REAUTH_REQUIRED',
      async () => (await proc.deps.readTokenRow(accountId))?.status === 'REAUTH_REQUIRED',
    );
    await sleep(1_500);

    expect(await sandbox.control.calls({ endpoint: 'refresh', openId: 'sbx-open-emi' })).toHaveLength(1);
    expect(await proc.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId))).toBeUndefined();
    const row = await proc.deps.readTokenRow(accountId);
    expect(row).toMatchObject({ accessTokenCiphertext: null, refreshTokenCiphertext: null });
    expect((await eventsOf(accountId)).filter((e) => e.type === 'REAUTH_REQUIRED')).toHaveLength(1);
  });

  it('injected 5xx and 429 → retried with backoff, then success; the account stays ACTIVE throughout', async () => {
    const proc = makeProc();
    const { accountId } = await connectThroughTikTok(proc.deps, sandbox.control, { openId: 'sbx-open-zoe' });
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'http_500', times: 2 });
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'rate_limit' });
    startWorker(proc);
    await proc.deps.refreshJobs.requestNow(accountId);

    await waitFor(
      'a successful refresh',
      async () => (await eventsOf(accountId)).some((e) => e.type === 'REFRESHED'),
      15_000,
    );

    const calls = await sandbox.control.calls({ endpoint: 'refresh', openId: 'sbx-open-zoe' });
    expect(calls.map((c) => c.status)).toEqual([500, 500, 429, 200]);
    const types = (await eventsOf(accountId)).map((e) => e.type);
    expect(types.filter((t) => t === 'REFRESH_FAILED')).toHaveLength(3);
    expect(types).not.toContain('REAUTH_REQUIRED');
    const row = await proc.deps.readTokenRow(accountId);
    expect(row).toMatchObject({ status: 'ACTIVE', refreshFailureCount: 0, lastError: null });
    // Back on schedule: the one job is delayed to the new token's refresh time.
    const job = await proc.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
    expect(await job?.getState()).toBe('delayed');
    expect(job?.data).toEqual({});
    // Still the compact hash after runs, failures and moves (every field under hash-max-listpack-value).
    const key = proc.queues.tokenRefresh.toKey(job?.id ?? '');
    expect(await proc.deps.redis.call('OBJECT', 'ENCODING', key)).toBe('listpack');
    expect(Math.abs(Date.now() + (job?.delay ?? 0) - (row?.nextRefreshAt?.getTime() ?? 0))).toBeLessThan(2_000);
  });
});

describe('refresh now', () => {
  it('a "refresh now" that arrives while a scheduled run is refreshing runs again as soon as that run ends', async () => {
    const proc = makeProc();
    const { accountId } = await connectThroughTikTok(proc.deps, sandbox.control, { openId: 'sbx-open-ava' });
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'latency', latencyMs: 800 });
    startWorker(proc);
    // The scheduled run comes due (clocks moved) and starts refreshing, slowly.
    const due = (await proc.deps.readTokenRow(accountId))?.nextRefreshAt?.getTime() ?? now();
    await advance(Math.max(0, due - now()));
    await fireRefreshJob(proc, accountId);
    await waitFor('the scheduled run to be running', async () => {
      const job = await proc.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
      return (await job?.getState()) === 'active';
    });

    expect(await proc.deps.refreshJobs.requestNow(accountId)).toBe('pending');

    await waitFor(
      'the requested refresh',
      async () => (await eventsOf(accountId)).filter((e) => e.type === 'REFRESHED').length >= 2,
    );
    const refreshed = (await eventsOf(accountId)).filter((e) => e.type === 'REFRESHED');
    expect(refreshed.map((e) => (e.data as { reason: string }).reason)).toEqual(['scheduled', 'manual']);
    // Back to its small scheduled payload afterwards.
    await waitFor('the job back on schedule', async () => {
      const job = await proc.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
      return (await job?.getState()) === 'delayed' && Object.keys(job?.data ?? {}).length === 0;
    });
  });
});

describe('reconciler at worker start', () => {
  it('after all of the queue keys are gone, restores a refresh job for every active account and none for others', async () => {
    const proc = makeProc();
    const active: string[] = [];
    const inactive: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { accountId } = await proc.deps.applyConnection(makeTestConnection(keyring).payload);
      if (i % 4 === 0) {
        await proc.deps.disconnect({ accountId, actor: 'system' });
        inactive.push(accountId);
      } else if (i % 4 === 1) {
        await db.prisma.socialAccount.update({ where: { id: accountId }, data: { status: 'REAUTH_REQUIRED' } });
        inactive.push(accountId);
      } else {
        active.push(accountId);
      }
    }
    // FLUSHALL stand-in: every key under this test's prefix is deleted (the Redis is shared with other test files).
    await deleteKeys(proc.connections[0] as RedisClient, prefix);
    expect(await proc.queues.tokenRefresh.getJobCounts('delayed')).toMatchObject({ delayed: 0 });

    startWorker(proc);
    const reconciler = startReconciler({ accounts: proc.deps, intervalMs: 60_000, logger, pageSize: 16 });
    const report = await reconciler.runNow();
    await reconciler.stop();

    // Every ACTIVE account had lost its job, and only those got one.
    expect(report?.scanned).toBeGreaterThanOrEqual(active.length);
    expect(report?.added).toBe(report?.scanned);
    for (const id of active) {
      expect(await (await proc.queues.tokenRefresh.getJob(jobIds.tokenRefresh(id)))?.getState()).toBe('delayed');
    }
    for (const id of inactive) expect(await proc.queues.tokenRefresh.getJob(jobIds.tokenRefresh(id))).toBeUndefined();
  });
});

describe('disconnect', () => {
  it('wipes the tokens, leaves no refresh job, and the revoke reaches TikTok (also after a failed first call)', async () => {
    const proc = makeProc();
    const plain = await connectThroughTikTok(proc.deps, sandbox.control, { openId: 'sbx-open-ava' });
    const flaky = await connectThroughTikTok(proc.deps, sandbox.control, { openId: 'sbx-open-ben' });
    await sandbox.control.injectFailure({ endpoint: 'revoke', kind: 'http_500', openId: 'sbx-open-ben' });
    startWorker(proc);

    await proc.deps.disconnect({ accountId: plain.accountId, userId: plain.userId, actor: 'user' });
    await proc.deps.disconnect({ accountId: flaky.accountId, actor: 'admin' });

    for (const acc of [plain, flaky]) {
      const row = await proc.deps.readTokenRow(acc.accountId);
      expect(row).toMatchObject({ status: 'DISCONNECTED', accessTokenCiphertext: null, refreshTokenCiphertext: null });
      expect(await proc.queues.tokenRefresh.getJob(jobIds.tokenRefresh(acc.accountId))).toBeUndefined();
    }
    await waitFor(
      'both revokes',
      async () =>
        (await eventsOf(plain.accountId)).some((e) => e.type === 'REVOKED') &&
        (await eventsOf(flaky.accountId)).some((e) => e.type === 'REVOKED'),
      20_000,
    );
    expect((await sandbox.control.calls({ endpoint: 'revoke', openId: 'sbx-open-ava' })).map((c) => c.status)).toEqual([
      200,
    ]);
    expect((await sandbox.control.calls({ endpoint: 'revoke', openId: 'sbx-open-ben' })).map((c) => c.status)).toEqual([
      500, 200,
    ]);
    // TikTok really cut the app off: the old access token no longer works.
    await expect(proc.deps.tiktok?.getUserInfo(flaky.tokens.accessToken)).rejects.toMatchObject({
      code: 'TIKTOK_ACCESS_TOKEN_INVALID',
    });
  });
});

describe('refresh job formats', () => {
  it('a job of the legacy format (refresh-<uuid>, { accountId }, options in the job) runs and hands over to the compact one', async () => {
    const proc = makeProc();
    const { accountId } = await connectThroughTikTok(proc.deps, sandbox.control, { openId: 'sbx-open-ava' });
    await proc.queues.tokenRefresh.remove(jobIds.tokenRefresh(accountId));
    const legacyId = jobIds.legacyTokenRefresh(accountId);
    await proc.queues.tokenRefresh.add(
      'token.refresh',
      { accountId },
      { jobId: legacyId, attempts: 10, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: true },
    );
    startWorker(proc);
    const job = await waitFor('the compact job', async () => {
      const compact = await proc.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
      return (await compact?.getState()) === 'delayed' ? compact : undefined;
    });
    await waitFor('the legacy job to end', async () => !(await proc.queues.tokenRefresh.getJob(legacyId)));
    const row = await proc.deps.readTokenRow(accountId);
    expect(job.data).toEqual({});
    expect(Math.abs(job.timestamp + (job.delay ?? 0) - (row?.nextRefreshAt?.getTime() ?? 0))).toBeLessThan(2_000);
  });

  it('an unexpected error (database gone) moves the compact job to retry later instead of failing it', async () => {
    const proc = makeProc();
    const { accountId } = await proc.deps.applyConnection(makeTestConnection(keyring).payload);
    // A second service whose database is dropped under it: every query fails as with Postgres down.
    const lost = await createTestDatabase();
    const broken = createTestAccounts({
      prisma: lost.prisma,
      keyring,
      redis: proc.connections[0] as RedisClient,
      queues: proc.queues,
      queuePrefix: prefix,
      lifecycle: { retryBaseMs: 200 },
      now,
    });
    await lost.drop();
    const brokenProc: Proc = { deps: broken, queues: proc.queues, connections: [] };
    procs.push(brokenProc);
    await proc.deps.refreshJobs.requestNow(accountId);
    const before = Date.now();
    startWorker(brokenProc);
    const job = await waitFor('the job moved to retry', async () => {
      const j = await proc.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
      return (await j?.getState()) === 'delayed' && (j?.processedOn ?? 0) > 0 ? j : undefined;
    });
    expect(job.timestamp + (job.delay ?? 0)).toBeGreaterThanOrEqual(before + 15_000 - 1_000);
    expect(await proc.queues.tokenRefresh.getFailedCount()).toBe(0);
  });
});

describe('event retention in the reconciler pass', () => {
  it('prunes routine REFRESHED events past EVENT_RETENTION_DAYS and keeps the rest', async () => {
    const proc = makeProc();
    const { accountId } = await proc.deps.applyConnection(makeTestConnection(keyring).payload);
    const old = new Date(Date.now() - 31 * 86_400_000);
    await db.prisma.accountEvent.createMany({
      data: [
        { accountId, type: 'REFRESHED', data: { reason: 'scheduled' }, createdAt: old },
        { accountId, type: 'REFRESH_FAILED', data: { code: 'X' }, createdAt: old },
        { accountId, type: 'REFRESHED', data: { reason: 'scheduled' }, createdAt: new Date() },
      ],
    });
    const reconciler = startReconciler({ accounts: proc.deps, intervalMs: 60_000, logger, eventRetentionDays: 30 });
    await reconciler.runNow();
    await reconciler.stop();
    const types = (await eventsOf(accountId)).map((e) => e.type);
    expect(types.sort()).toEqual(['CONNECTED', 'REFRESHED', 'REFRESH_FAILED']);
    const [kept] = (await eventsOf(accountId)).filter((e) => e.type === 'REFRESHED');
    expect(kept?.createdAt.getTime()).toBeGreaterThan(old.getTime());
  });
});
