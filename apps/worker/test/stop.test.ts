// A stop is bounded by SHUTDOWN_TIMEOUT_MS whatever is in flight: the real worker process, a job blocked on a Postgres
// row lock another transaction holds, SIGTERM. The process exits in time, says it was forced (exit code 2), and the
// job, put back in the queue, is applied exactly once by the next worker once the lock is gone.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createAccounts } from '@ttc/accounts';
import { makeTestConnection } from '@ttc/accounts/testing';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection, enqueueAccountConnected } from '@ttc/queue';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deleteKeys } from './helpers.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyEntry = generateKeyringEntry();
const keyring = parseKeyring(keyEntry);
const SHUTDOWN_TIMEOUT_MS = 8_000;
let db: TestDatabase;
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await db?.drop();
});

function startWorker(prefix: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: appDir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      WORKER_METRICS_PORT: '0',
      TOKEN_ENCRYPTION_KEYS: keyEntry,
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      // No statement timeout: the blocked statement waits for the lock for as long as it is held.
      DATABASE_STATEMENT_TIMEOUT_MS: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

it('exits within SHUTDOWN_TIMEOUT_MS with a job held by a row lock, exit code 2; the job is applied once later', {
  timeout: 150_000,
}, async () => {
  const prefix = `stop${randomBytes(6).toString('hex')}`;
  const client = createRedisConnection(redisUrl, 'client', 'stop-test');
  const producer = createRedisConnection(redisUrl, 'producer', 'stop-test');
  const queues = createQueues({ connection: producer, prefix });
  const accounts = createAccounts({ prisma: db.prisma, keyring, redis: client, queues, queuePrefix: prefix });
  const locker = new pg.Client({ connectionString: db.url });
  await locker.connect();
  try {
    const first = makeTestConnection(keyring);
    await accounts.applyConnection(first.payload);
    const { userId, openId } = first.payload;
    const account = await db.prisma.socialAccount.findFirstOrThrow({ where: { userId } });

    // Another transaction holds the row: the reconnect's upsert will wait on it.
    const lockWaiters = async () =>
      (
        await locker.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
      ).rows[0]?.n;
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM social_accounts WHERE id = $1 FOR UPDATE', [account.id]);
    const worker = startWorker(prefix);
    await enqueueAccountConnected(queues, makeTestConnection(keyring, { userId, openId }).payload);
    await expect.poll(() => queues.accountConnected.getActiveCount(), { timeout: 30_000, interval: 100 }).toBe(1);
    // The upsert is waiting on the lock now (a freshly started process's first model query can take a while on a
    // busy machine: Prisma loads its query compiler).
    await expect
      .poll(lockWaiters, { timeout: 45_000, interval: 100 })
      .toBe(1)
      .catch((error: Error) => {
        // What the worker was doing instead (seen once under a full suite's load): its own log says.
        throw new Error(`${error.message}\nworker output:\n${worker.output().slice(-4_000)}`);
      });

    const started = performance.now();
    worker.child.kill('SIGTERM');
    const code = await worker.exited;
    const ms = performance.now() - started;
    console.log(`worker stop with a job blocked on a row lock: ${Math.round(ms)} ms, exit code ${code}`);
    expect(ms, worker.output()).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2_000);
    expect(code, worker.output()).toBe(2);
    expect(worker.output()).toContain('workers force-closed');
    expect(worker.output()).toMatch(/"returnedToQueue":1/);
    expect(await queues.accountConnected.getWaitingCount()).toBe(1);
    // The abandoned statement is cancelled by the server (its client is gone), not left to commit for nobody.
    await expect.poll(lockWaiters, { timeout: 10_000, interval: 100 }).toBe(0);

    // The lock goes away; the next worker applies the connection, once.
    await locker.query('ROLLBACK');
    expect(await db.prisma.accountEvent.count({ where: { accountId: account.id, type: 'RECONNECTED' } })).toBe(0);
    const next = startWorker(prefix);
    await expect
      .poll(() => db.prisma.accountEvent.count({ where: { accountId: account.id, type: 'RECONNECTED' } }), {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(1);
    await expect
      .poll(() => queues.accountConnected.getJobCounts('wait', 'active', 'failed', 'delayed'), { timeout: 10_000 })
      .toEqual({ wait: 0, active: 0, failed: 0, delayed: 0 });
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
    expect(await db.prisma.accountEvent.count({ where: { accountId: account.id, type: 'RECONNECTED' } })).toBe(1);
  } finally {
    await locker.end().catch(() => undefined);
    await deleteKeys(client, prefix);
    await queues.close();
    client.disconnect();
    producer.disconnect();
  }
});
