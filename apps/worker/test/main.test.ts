import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { makeTestConnection } from '@ttc/accounts/testing';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import {
  connectSessionKey,
  createQueues,
  createRedisConnection,
  enqueueAccountConnected,
  readConnectResult,
} from '@ttc/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys } from './helpers.js';

// The entry file as operators run it: a child process, real config from the environment, signals.
const appDir = fileURLToPath(new URL('..', import.meta.url));
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyEntry = generateKeyringEntry();
const keyring = parseKeyring(keyEntry);
let db: TestDatabase;
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await db?.drop();
});

interface LogLine {
  msg: string;
  level: number;
  [key: string]: unknown;
}

function startMain(databaseUrl: string, queuePrefix: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: appDir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: queuePrefix,
      WORKER_METRICS_PORT: '0',
      TOKEN_ENCRYPTION_KEYS: keyEntry,
      LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: LogLine[] = [];
  let raw = '';
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.trim()) continue;
      const line = JSON.parse(part) as LogLine;
      lines.push(line);
      for (const w of waiters.filter((x) => x.match(line))) w.resolve(line);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (msg: string, timeoutMs = 15_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const found = lines.find((l) => l.msg.includes(msg));
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no log "${msg}" in time; output:\n${raw}`)), timeoutMs);
      waiters.push({
        match: (l) => l.msg.includes(msg),
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  return { child, lines, output: () => raw, exited, waitFor };
}

describe('worker main', () => {
  it('processes jobs, reports ready, and shuts down in order on SIGTERM', { timeout: 40_000 }, async () => {
    const prefix = `t${randomBytes(8).toString('hex')}`;
    const app = startMain(db.url, prefix);
    const listening = await app.waitFor('metrics and health endpoints listening');
    await app.waitFor('worker started');
    const url = listening.url as string;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    const producer = createRedisConnection(redisUrl, 'producer', 'main-test');
    const queues = createQueues({ connection: producer, prefix });
    try {
      const { payload, accessToken, refreshToken } = makeTestConnection(keyring);
      await producer.hset(connectSessionKey(prefix, payload.connectSessionId), { userId: payload.userId });
      await producer.expire(connectSessionKey(prefix, payload.connectSessionId), 600);
      await enqueueAccountConnected(queues, payload);
      const outcome = () => readConnectResult(producer, prefix, payload.connectSessionId, payload.connectionId);
      const deadline = Date.now() + 10_000;
      while (!(await outcome()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await db.prisma.socialAccount.count({ where: { userId: payload.userId } })).toBe(1);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/ttc_worker_jobs_processed_total\{queue="account.connected",service="worker"\} 1/);

      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
      const steps = app.lines.map((l) => l.msg).filter((m) => m.startsWith('shutdown'));
      expect(steps).toEqual([
        'shutdown 1/4: closing the metrics and health server',
        'shutdown 2/4: stopping workers, waiting for in-flight jobs',
        'shutdown 3/4: closing queues and Redis connections',
        'shutdown 4/4: closing Postgres',
        'shutdown complete',
      ]);
      // Logs carry ids and outcomes, never the job's payload.
      for (const secret of [accessToken, refreshToken, payload.accessTokenCiphertext, payload.refreshTokenCiphertext]) {
        expect(app.output()).not.toContain(secret);
      }
      expect(app.output()).not.toContain(keyEntry.split(':')[1]);
    } finally {
      for (const queue of queues.all()) await queue.obliterate({ force: true });
      await queues.close();
      await deleteKeys(producer, prefix);
      producer.disconnect();
    }
  });

  it('says clearly that migrations are missing, stays not ready, and still shuts down', {
    timeout: 40_000,
  }, async () => {
    const name = `ttc_test_empty_${randomBytes(6).toString('hex')}`;
    await db.prisma.$executeRawUnsafe(`CREATE DATABASE "${name}"`);
    const url = new URL(db.url);
    url.pathname = `/${name}`;
    try {
      const app = startMain(url.toString(), `t${randomBytes(8).toString('hex')}`);
      const listening = await app.waitFor('metrics and health endpoints listening');
      const error = await app.waitFor('database tables are missing');
      expect(error.msg).toContain('pnpm db:migrate');
      expect(error.missing).toEqual(['social_accounts', 'account_events', 'webhook_events', 'webhook_deliveries']);
      expect((await fetch(`${listening.url as string}/readyz`)).status).toBe(503);
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
      expect(app.lines.some((l) => l.msg === 'worker started')).toBe(false);
    } finally {
      await db.prisma.$executeRawUnsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  });
});
