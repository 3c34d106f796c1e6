// Warn-level lines of the worker (a refresh that failed, a job that will be retried) carry the error's code and
// message, never its stack.
import { randomUUID } from 'node:crypto';
import { connectThroughTikTok, createTestAccounts } from '@ttc/accounts/testing';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { type SandboxHandle, startSandbox } from '@ttc/tiktok-sandbox';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltWorker, buildWorker } from '../src/worker.js';
import { deleteKeys } from './helpers.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-warn-${randomUUID()}`;
const lines: Record<string, unknown>[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
let db: TestDatabase;
let sandbox: SandboxHandle;
const redis = createRedisConnection(redisUrl, 'client', 'warn-logs-test');
const producer = createRedisConnection(redisUrl, 'producer', 'warn-logs-test');
const connection = createRedisConnection(redisUrl, 'worker', 'warn-logs-test');
const queues = createQueues({ connection: producer, prefix });
let built: BuiltWorker | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
});

afterAll(async () => {
  await built?.close();
  for (const queue of queues.all()) await queue.obliterate({ force: true }).catch(() => undefined);
  await deleteKeys(redis, prefix);
  await queues.close();
  for (const c of [redis, producer, connection]) c.disconnect();
  await sandbox?.close();
  await db?.drop();
});

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('worker warn logs', () => {
  it('say what failed (code, message) without a stack, for a failed refresh and a revoke to be retried', async () => {
    const accounts = createTestAccounts({
      prisma: db.prisma,
      keyring: parseKeyring(generateKeyringEntry()),
      redis,
      queues,
      queuePrefix: prefix,
      tiktok: createTikTokClient({ ...sandbox.clientOptions, timeoutMs: 3_000 }),
      lifecycle: { retryBaseMs: 200, retryMaxMs: 1_000 },
      logger,
    });
    const refreshing = await connectThroughTikTok(accounts, sandbox.control, { openId: 'sbx-open-ava' });
    const revoking = await connectThroughTikTok(accounts, sandbox.control, { openId: 'sbx-open-ben' });
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'http_500', times: 1 });
    await sandbox.control.injectFailure({ endpoint: 'revoke', kind: 'http_500', openId: 'sbx-open-ben', times: 1 });
    built = buildWorker({ accounts, connection, prefix, concurrency: 4, logger, closeTimeoutMs: 5_000 });

    await accounts.refreshJobs.requestNow(refreshing.accountId);
    await accounts.disconnect({ accountId: revoking.accountId, actor: 'admin' });
    const events = async (accountId: string) =>
      (await db.prisma.accountEvent.findMany({ where: { accountId } })).map((e) => e.type);
    await waitFor('the refresh to succeed after its failure', async () =>
      (await events(refreshing.accountId)).includes('REFRESHED'),
    );
    await waitFor('the revoke to succeed after its failure', async () =>
      (await events(revoking.accountId)).includes('REVOKED'),
    );

    const warnings = lines.filter((l) => l.level === 40);
    const refreshFailed = warnings.find((l) => l.msg === 'token refresh failed; will retry');
    expect(refreshFailed).toMatchObject({ accountId: refreshing.accountId, code: 'TIKTOK_SERVER_ERROR' });
    const retried = warnings.find((l) => l.msg === 'job failed; will retry');
    expect(retried?.error).toMatchObject({
      type: 'TikTokError',
      code: 'TIKTOK_SERVER_ERROR',
      message: expect.any(String),
    });
    for (const line of warnings) {
      expect(JSON.stringify(line)).not.toContain('"stack"');
      expect(JSON.stringify(line)).not.toMatch(/\s+at\s+\S+\s+\(/);
    }
  });
});
