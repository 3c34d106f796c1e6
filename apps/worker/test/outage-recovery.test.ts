// After a TikTok outage (30 s of 5xx then 429 while refreshes are due), every account whose refresh was backing off
// is refreshed within 30 s of TikTok's recovery, not at its backoff: the shared breaker's probe notices the recovery
// and promotes the waiting refresh jobs, which two workers then run at their own concurrency (measured at the
// sandbox: how many refreshes were in flight at once). Nothing is lost on the way: no account REAUTH_REQUIRED, no
// refresh token presented twice.
import { randomUUID } from 'node:crypto';
import { connectThroughTikTok, createTestAccounts, type TestAccounts } from '@ttc/accounts/testing';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection, type RedisClient } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { type SandboxHandle, startSandbox } from '@ttc/tiktok-sandbox';

import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BuiltWorker, buildWorker } from '../src/worker.js';
import { deleteKeys } from './helpers.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyring = parseKeyring(generateKeyringEntry());
const logger = pino({ level: 'silent' });
const ACCOUNTS = 40;
const CONCURRENCY = 5;
const WORKERS = 2;
const OUTAGE_MS = 30_000;
const LATENCY_MS = 100;
const prefix = `outage-${randomUUID().slice(0, 8)}`;
let db: TestDatabase;
let sandbox: SandboxHandle;
const connections: RedisClient[] = [];
const built: BuiltWorker[] = [];
const services: TestAccounts[] = [];

function makeService(): TestAccounts {
  const redis = createRedisConnection(redisUrl, 'client', 'outage-test');
  const producer = createRedisConnection(redisUrl, 'producer', 'outage-test');
  connections.push(redis, producer);
  const accounts = createTestAccounts({
    prisma: db.prisma,
    keyring,
    redis,
    queues: createQueues({ connection: producer, prefix }),
    queuePrefix: prefix,
    tiktok: createTikTokClient({ ...sandbox.clientOptions, timeoutMs: 3_000 }),
    // Backoff doubling from 8 s: by the end of the outage the last retries are scheduled well beyond 30 s.
    lifecycle: { retryBaseMs: 8_000 },
    logger,
  });
  services.push(accounts);
  return accounts;
}

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 15 });
  sandbox = await startSandbox({ port: 0 });
});

afterAll(async () => {
  await Promise.allSettled(built.map((w) => w.close()));
  const [first] = connections;
  if (first) await deleteKeys(first, prefix).catch(() => undefined);
  await Promise.allSettled(services.map((s) => s.queues.close()));
  for (const c of connections) c.disconnect();
  await sandbox?.close();
  await db?.drop();
});

it('refreshes every backing-off account within 30 s of TikTok recovering, at bounded concurrency', async () => {
  await sandbox.control.setLifetimes({ accessTokenTtlSeconds: 8 });
  const first = makeService();
  const users = await sandbox.control.users();
  for (let i = 0; i < ACCOUNTS; i++) {
    await connectThroughTikTok(first, sandbox.control, { openId: users[i % users.length]?.openId ?? '' });
  }
  for (let w = 0; w < WORKERS; w++) {
    const accounts = w === 0 ? first : makeService();
    const connection = createRedisConnection(redisUrl, 'worker', 'outage-test');
    connections.push(connection);
    built.push(
      buildWorker({ accounts, connection, prefix, concurrency: CONCURRENCY, logger, queues: ['token.refresh'] }),
    );
  }

  // The outage: every refresh answered 503 for half of it, then 429 (Retry-After: 1).
  await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'http_503', times: Number.POSITIVE_INFINITY });
  await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
  await sandbox.control.clearFailures();
  await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'rate_limit', times: Number.POSITIVE_INFINITY });
  await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));

  const backingOff = await db.prisma.socialAccount.findMany({
    where: { status: 'ACTIVE', refreshFailureCount: { gt: 0 } },
    select: { nextRefreshAt: true },
  });
  const latestRetry = Math.max(...backingOff.map((a) => a.nextRefreshAt?.getTime() ?? 0));
  // TikTok is back (each refresh now takes 100 ms, to see how many run at once).
  await sandbox.control.clearFailures();
  await sandbox.control.injectFailure({
    endpoint: 'refresh',
    kind: 'latency',
    latencyMs: LATENCY_MS,
    times: Number.POSITIVE_INFINITY,
  });
  const recoveredAt = Date.now();
  const fresh = () =>
    db.prisma.socialAccount.count({
      where: { status: 'ACTIVE', refreshFailureCount: 0, accessTokenExpiresAt: { gt: new Date() } },
    });
  await expect.poll(fresh, { timeout: 45_000, interval: 100 }).toBe(ACCOUNTS);
  const allFreshAfterMs = Date.now() - recoveredAt;

  const refreshCalls = (await sandbox.control.calls({ endpoint: 'refresh' })).filter(
    (c) => Date.parse(c.at) >= recoveredAt && c.status === 200,
  );
  // In flight at once: each call was answered LATENCY_MS after it arrived; the most that overlap.
  const ends = refreshCalls.map((c) => Date.parse(c.at)).sort((a, b) => a - b);
  let peak = 0;
  for (const end of ends) peak = Math.max(peak, ends.filter((e) => e > end - LATENCY_MS && e <= end).length);
  console.log(
    `outage recovery: ${backingOff.length}/${ACCOUNTS} accounts backing off, latest scheduled retry ${Math.round(
      (latestRetry - recoveredAt) / 1000,
    )} s after recovery; all fresh ${allFreshAfterMs} ms after recovery; peak refreshes in flight ${peak} (bound ${
      WORKERS * CONCURRENCY
    })`,
  );

  expect(backingOff.length).toBe(ACCOUNTS);
  expect(allFreshAfterMs).toBeLessThan(30_000);
  // Sooner than their backoff would have allowed: the promotion, not the schedule, refreshed them.
  expect(recoveredAt + allFreshAfterMs).toBeLessThan(latestRetry);
  expect(peak).toBeLessThanOrEqual(WORKERS * CONCURRENCY);
  expect(await db.prisma.socialAccount.count({ where: { status: { not: 'ACTIVE' } } })).toBe(0);
  const reused = (await sandbox.control.calls({ endpoint: 'refresh' })).filter((c) => c.refreshTokenReused);
  expect(reused).toEqual([]);
}, 150_000);
