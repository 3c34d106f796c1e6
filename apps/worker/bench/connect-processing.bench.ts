// Connect processing: `pnpm bench connect-processing` (or `pnpm exec tsx apps/worker/bench/connect-processing.bench.ts
// [rounds=3] [jobs=5000]`).
//
// A: N `account.connected` jobs (real payloads: encrypted tokens, one connect session each) already in the queue,
//    processed by the production worker (`buildWorker`, WORKER_CONCURRENCY 20, DATABASE_POOL_SIZE 10, pino at info to
//    /dev/null): from the worker's start until the last job completed.
// B: the same N upserts (same rows, same columns) as a raw loop on ONE `pg` connection:
//    `INSERT INTO social_accounts … ON CONFLICT (user_id, platform, open_id) DO UPDATE …`, one after another.
// Interleaved A B A B … on an emptied table each time (fresh inserts, as new connections are). Goal: A's accounts/s
// ≥ 0.5 of B's. Also reported: this process's CPU per job (A runs the worker here; B is mostly Postgres's CPU), and,
// with BENCH_PROFILE=1, a `--cpu-prof` style profile of one A round in /tmp/prof (open it in Chrome's DevTools).
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { createAccounts } from '@ttc/accounts';
import { makeTestConnection } from '@ttc/accounts/testing';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase } from '@ttc/db/testing';
import type { AccountConnectedPayload } from '@ttc/queue';
import { connectSessionKey, createQueues, createRedisConnection, jobIds, QueueNames } from '@ttc/queue';
import pg from 'pg';
import { pino } from 'pino';
import { loadNow, loadSpan, row, writeRows } from '../../../packages/devtools/bin/bench-rows.mjs';
import { buildWorker } from '../src/worker.js';
import { deletePrefix } from './support.js';

const rounds = Number(process.argv[2] ?? 3);
const N = Number(process.argv[3] ?? 5_000);
const CONCURRENCY = 20; // WORKER_CONCURRENCY's default
const POOL = 10; // DATABASE_POOL_SIZE's default
const serverUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/**
 * CPU time (µs) of each Postgres backend serving database `name`, by pid, from /proc (same machine). A phase's cost
 * is the sum over pids of end − start (a backend that started during the phase counts from 0).
 */
async function backendsCpu(raw: pg.Client, name: string): Promise<Map<number, number>> {
  const { rows } = await raw.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name]);
  const byPid = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      // utime + stime (fields 14 and 15 of stat), in ticks of 1/100 s (USER_HZ)
      byPid.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100);
    } catch {
      // Not on this machine's /proc (a remote Postgres): no backend CPU.
    }
  }
  return byPid;
}

const cpuSince = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, us]) => sum + us - (before.get(pid) ?? 0), 0);

async function main() {
  const startLoad = loadNow();
  const db = await createTestDatabase({ serverUrl, poolSize: POOL });
  const keyring = parseKeyring(generateKeyringEntry('bench'));
  const redis = createRedisConnection(redisUrl, 'client', 'bench');
  const producer = createRedisConnection(redisUrl, 'producer', 'bench');
  const workerConnection = createRedisConnection(redisUrl, 'worker', 'bench');
  const prefix = `bench-connect-${randomUUID().slice(0, 8)}`;
  const queues = createQueues({ connection: producer, prefix });
  const logger = pino({ level: 'info' }, pino.destination('/dev/null'));
  const accounts = createAccounts({ prisma: db.prisma, keyring, redis, queues, queuePrefix: prefix, logger });
  const raw = new pg.Client({ connectionString: db.url, options: '-c TimeZone=UTC' });
  await raw.connect();
  // The same payloads every round: N distinct accounts, each from its own connect session.
  const payloads: AccountConnectedPayload[] = Array.from({ length: N }, (_, i) => {
    const { payload } = makeTestConnection(keyring, {
      userId: `bench-user-${i % 1000}`,
      openId: `bench-open-${i}`,
      displayName: `Bench ${i}`,
      username: `bench${i}`,
      avatarUrl: null,
      unionId: null,
    });
    return payload;
  });

  const empty = () => db.prisma.$executeRawUnsafe('TRUNCATE social_accounts, account_events CASCADE');

  const project = async (profile: boolean) => {
    await empty();
    await deletePrefix(redis, prefix);
    const sessions = redis.pipeline();
    for (const p of payloads) sessions.hset(connectSessionKey(prefix, p.connectSessionId), 'userId', p.userId);
    await sessions.exec();
    // Fresh connection ids: BullMQ would otherwise see the previous round's job ids.
    const jobs = payloads.map((p) => ({ ...p, connectionId: randomUUID() }));
    for (let i = 0; i < jobs.length; i += 1_000) {
      await queues.accountConnected.addBulk(
        jobs.slice(i, i + 1_000).map((data) => ({
          name: QueueNames.accountConnected,
          data,
          opts: { jobId: jobIds.accountConnected(data.connectionId) },
        })),
      );
    }
    let session: Session | undefined;
    if (profile) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const dbName = new URL(db.url).pathname.slice(1);
    const pgCpu0 = await backendsCpu(raw, dbName);
    const cpu0 = cpuNow();
    const t0 = performance.now();
    const built = buildWorker({
      accounts,
      connection: workerConnection,
      prefix,
      concurrency: CONCURRENCY,
      logger,
      queues: [QueueNames.accountConnected],
    });
    let completed = 0;
    let failed = 0;
    const done = new Promise<void>((resolve) => {
      const count = () => {
        if (completed + failed === N) resolve();
      };
      built.workers[0]?.on('completed', () => {
        completed++;
        count();
      });
      built.workers[0]?.on('failed', () => {
        failed++;
        count();
      });
    });
    await done;
    const ms = performance.now() - t0;
    const cpuUs = cpuNow() - cpu0;
    const pgCpuUs = cpuSince(pgCpu0, await backendsCpu(raw, dbName));
    if (session) {
      const { profile: cpuProfile } = await session.post('Profiler.stop');
      mkdirSync('/tmp/prof', { recursive: true });
      const file = `/tmp/prof/connect-processing-${Date.now()}.cpuprofile`;
      writeFileSync(file, JSON.stringify(cpuProfile));
      console.log(`  profile: ${file}`);
      session.disconnect();
    }
    await built.close();
    if (failed > 0) throw new Error(`${failed} jobs failed`);
    const [counted] = await db.prisma.$queryRaw<{ count: bigint }[]>`SELECT count(*) FROM social_accounts`;
    const count = Number(counted?.count ?? 0);
    if (count !== N) throw new Error(`expected ${N} accounts, found ${count}`);
    return { perSec: N / (ms / 1000), cpuUsPerJob: cpuUs / N, pgCpuUsPerJob: pgCpuUs / N };
  };

  const baseline = async () => {
    await empty();
    const dbName = new URL(db.url).pathname.slice(1);
    const pgCpu0 = await backendsCpu(raw, dbName);
    const cpu0 = cpuNow();
    const t0 = performance.now();
    for (const p of payloads) {
      await raw.query(
        `INSERT INTO social_accounts AS a (
          id, user_id, platform, open_id, union_id, display_name, username, avatar_url, scopes, status,
          access_token_ciphertext, refresh_token_ciphertext, access_token_expires_at, refresh_token_expires_at,
          next_refresh_at, tokens_obtained_at, connected_at, created_at, updated_at
        ) VALUES (gen_random_uuid(), $1, 'TIKTOK', $2, $3, $4, $5, $6, $7, 'ACTIVE', $8, $9, $10, $11, $12, $13, $13,
          now(), now())
        ON CONFLICT (user_id, platform, open_id) DO UPDATE SET
          display_name = EXCLUDED.display_name, username = EXCLUDED.username, scopes = EXCLUDED.scopes,
          access_token_ciphertext = EXCLUDED.access_token_ciphertext,
          refresh_token_ciphertext = EXCLUDED.refresh_token_ciphertext,
          access_token_expires_at = EXCLUDED.access_token_expires_at,
          refresh_token_expires_at = EXCLUDED.refresh_token_expires_at, next_refresh_at = EXCLUDED.next_refresh_at,
          tokens_obtained_at = EXCLUDED.tokens_obtained_at, updated_at = EXCLUDED.updated_at`,
        [
          p.userId,
          p.openId,
          p.unionId,
          p.displayName,
          p.username,
          p.avatarUrl,
          p.scopes,
          p.accessTokenCiphertext,
          p.refreshTokenCiphertext,
          p.accessTokenExpiresAt,
          p.refreshTokenExpiresAt,
          p.accessTokenExpiresAt,
          p.obtainedAt,
        ],
      );
    }
    const ms = performance.now() - t0;
    const cpuUs = cpuNow() - cpu0;
    const pgCpuUs = cpuSince(pgCpu0, await backendsCpu(raw, dbName));
    return { perSec: N / (ms / 1000), cpuUsPerJob: cpuUs / N, pgCpuUsPerJob: pgCpuUs / N };
  };

  try {
    // Warm-up (JIT, Prisma's first statements, pg's connection pool), not counted.
    await project(false);
    await baseline();
    type Round = { perSec: number; cpuUsPerJob: number; pgCpuUsPerJob: number };
    const a: Round[] = [];
    const b: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      a.push(await project(process.env.BENCH_PROFILE === '1' && r === 0));
      b.push(await baseline());
      console.log(
        `round ${r + 1}: worker ${a[r]?.perSec.toFixed(0)} accounts/s (CPU/job: Node ${a[r]?.cpuUsPerJob.toFixed(0)} µs, ` +
          `Postgres ${a[r]?.pgCpuUsPerJob.toFixed(0)} µs), raw pg ${b[r]?.perSec.toFixed(0)}/s (Node ` +
          `${b[r]?.cpuUsPerJob.toFixed(0)} µs, Postgres ${b[r]?.pgCpuUsPerJob.toFixed(0)} µs)`,
      );
    }
    const load = loadSpan(startLoad);
    const rows = [
      row({
        measure: `account.connected processing, ${N.toLocaleString('en')} jobs`,
        project: `worker (concurrency ${CONCURRENCY}, pool ${POOL})`,
        baseline: 'raw pg INSERT … ON CONFLICT loop, 1 connection',
        unit: 'accounts/s',
        projectRounds: a.map((x) => x.perSec),
        baselineRounds: b.map((x) => x.perSec),
        goal: '≥ 0.5',
        meets: (x) => x >= 0.5,
        load,
      }),
      // Throughput on a shared 2-core machine moves with the neighbours; CPU per account much less. Redis's CPU
      // is not counted (the server is shared, its CPU cannot be attributed).
      row({
        measure: 'account.connected, CPU per account (Node + its Postgres backends), as a ratio baseline / ours',
        project: 'worker',
        baseline: 'raw pg loop',
        unit: 'µs',
        projectRounds: a.map((x) => x.cpuUsPerJob + x.pgCpuUsPerJob),
        baselineRounds: b.map((x) => x.cpuUsPerJob + x.pgCpuUsPerJob),
        ratioOf: (p, base) => base / p,
        load,
      }),
    ];
    console.log(`\nload average (1 min) ${load}`);
    writeRows(fileURLToPath(new URL('./results/', import.meta.url)), 'connect-processing', rows);
  } finally {
    await raw.end().catch(() => undefined);
    await deletePrefix(redis, prefix).catch(() => undefined);
    await queues.close();
    redis.disconnect();
    producer.disconnect();
    workerConnection.disconnect();
    await db.drop();
  }
}

await main();
process.exit(0);
