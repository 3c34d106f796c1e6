// Refresh scheduling benchmark: `pnpm bench refresh` (100,000 accounts) and `pnpm bench reconcile` (1,000,000), or
// `pnpm exec tsx apps/worker/bench/refresh-scheduling.bench.ts <accounts> <rounds> <name>`.
//
// Seeds N ACTIVE accounts (plus 1,000 inactive ones the reconciler must skip) with SQL `generate_series` into a
// database the bench creates, then runs interleaved rounds (A B A B …) on the local Redis:
//   A (the BullMQ floor): a plain `queue.addBulk` of N delayed jobs with empty data, BullMQ's default options and its
//     own numeric ids, in pages of 5,000;
//   B (ours): the queue's keys are deleted (what a FLUSHALL does to it, the reconciler's watermark included), the
//     reconciler rebuilds every job from Postgres (a full pass), then runs once more over every account with every
//     job present (a full steady pass), then, after 1 % of the rows were updated, a periodic pass as the watermark
//     allows it (only the changed rows).
// Per round: seconds, and Redis bytes per scheduled account by `INFO used_memory` delta and by MEMORY USAGE (a sample
// of job hashes plus the queue's shared keys, the delayed set above all, divided by N).
// The Redis is shared with other people's tests, so nothing is flushed: each phase has its own key prefix, deleted
// afterwards with SCAN + UNLINK (and the lazy free awaited before the next measurement).
// Env: BENCH_DATABASE_URL / TEST_DATABASE_URL, BENCH_REDIS_URL / TEST_REDIS_URL.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAccounts } from '@ttc/accounts';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection, jobIds, QueueNames, type RedisClient } from '@ttc/queue';
import { Queue } from 'bullmq';

import { type BenchRow, deletePrefix, loadAverage, ratios, spread, writeBenchRows } from './support.js';

const N = Number(process.argv[2] ?? process.env.BENCH_ACCOUNTS ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const NAME = process.argv[4] ?? 'refresh';
const PAGE = 5_000;
const serverUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function memoryInfo(redis: RedisClient): Promise<{ used: number; lazyPending: number }> {
  const info = await redis.info('memory');
  return {
    used: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0),
    lazyPending: Number(/lazyfree_pending_objects:(\d+)/.exec(info)?.[1] ?? 0),
  };
}

/** Deletes a prefix and waits until Redis has freed it (UNLINK frees in the background). */
async function dropPrefix(redis: RedisClient, prefix: string): Promise<void> {
  await deletePrefix(redis, prefix);
  for (let i = 0; i < 600 && (await memoryInfo(redis)).lazyPending > 0; i++) await sleep(100);
}

const memoryUsage = async (redis: RedisClient, key: string) =>
  Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) || 0;

/** MEMORY USAGE of 200 sampled job hashes (mean) plus the queue's shared keys divided by N. */
async function sampledBytesPerJob(redis: RedisClient, queue: string, jobKeys: string[]): Promise<number> {
  const step = Math.max(1, Math.floor(jobKeys.length / 200));
  const sample = jobKeys.filter((_, i) => i % step === 0).slice(0, 200);
  let hashBytes = 0;
  for (const key of sample) hashBytes += await memoryUsage(redis, key);
  let shared = 0;
  for (const key of ['delayed', 'events', 'meta', 'marker', 'id'])
    shared += await memoryUsage(redis, `${queue}:${key}`);
  return hashBytes / sample.length + shared / jobKeys.length;
}

async function encodingOf(redis: RedisClient, key: string): Promise<string> {
  return String(await redis.call('OBJECT', 'ENCODING', key));
}

const seconds = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
  const started = performance.now();
  const result = await fn();
  return [(performance.now() - started) / 1000, result];
};

async function main() {
  const loadStart = loadAverage();
  const db = await createTestDatabase({ serverUrl, poolSize: 5 });
  const redis = createRedisConnection(redisUrl, 'client', 'bench');
  const producer = createRedisConnection(redisUrl, 'producer', 'bench');
  const runId = randomUUID().slice(0, 8);
  const prefixes = { floor: `bench-floor-${runId}`, ours: `bench-ours-${runId}` };
  const listpack = (await redis.config('GET', 'hash-max-listpack-*')) as string[];
  try {
    // The admin's trigram indexes only slow the seeding down; nothing here reads them.
    await db.prisma.$executeRawUnsafe(
      'DROP INDEX social_accounts_display_name_trgm_idx, social_accounts_username_trgm_idx',
    );
    const [seedS] = await seconds(() =>
      db.prisma.$executeRawUnsafe(`
        INSERT INTO social_accounts (id, user_id, platform, open_id, display_name, scopes, status,
          access_token_ciphertext, refresh_token_ciphertext, access_token_expires_at, refresh_token_expires_at,
          tokens_obtained_at, next_refresh_at, connected_at, created_at, updated_at)
        SELECT gen_random_uuid(), 'bench-user-' || (g % 1000), 'TIKTOK', 'bench-open-' || g, 'Bench ' || g,
          ARRAY['user.info.basic'], CASE WHEN g <= ${N} THEN 'ACTIVE' ELSE 'REAUTH_REQUIRED' END::account_status,
          'v1.k.bench.ct', 'v1.k.bench.ct', t.obtained + interval '2 hours', t.obtained + interval '180 days',
          t.obtained, t.obtained + interval '2 hours' - interval '600 seconds', t.obtained,
          now() - interval '1 day', now() - interval '1 day'
        FROM generate_series(1, ${N + 1000}) g,
          LATERAL (SELECT now() - random() * interval '100 minutes' AS obtained) t`),
    );
    await db.prisma.$executeRawUnsafe('VACUUM ANALYZE social_accounts');
    const rows = await db.prisma.$queryRaw<{ id: string; due: number }[]>`
      SELECT id::text AS id, floor(extract(epoch FROM next_refresh_at) * 1000)::float8 AS due
      FROM social_accounts WHERE status = 'ACTIVE' ORDER BY id`;
    console.log(`seeded ${rows.length.toLocaleString('en')} active accounts in ${seedS.toFixed(1)} s`);

    const floor = { s: [] as number[], info: [] as number[], sampled: [] as number[] };
    const ours = {
      rebuildS: [] as number[],
      steadyS: [] as number[],
      changedS: [] as number[],
      info: [] as number[],
      sampled: [] as number[],
    };
    let oursEncoding = '';
    let floorEncoding = '';
    for (let round = 1; round <= ROUNDS; round++) {
      // A: the BullMQ floor.
      const floorQueue = new Queue(QueueNames.tokenRefresh, { connection: producer, prefix: prefixes.floor });
      const before = (await memoryInfo(redis)).used;
      const [floorS] = await seconds(async () => {
        for (let i = 0; i < rows.length; i += PAGE) {
          const now = Date.now();
          await floorQueue.addBulk(
            rows.slice(i, i + PAGE).map((r) => ({
              name: QueueNames.tokenRefresh,
              data: {},
              opts: { delay: Math.max(0, r.due - now) },
            })),
          );
        }
      });
      floor.s.push(floorS);
      floor.info.push(((await memoryInfo(redis)).used - before) / rows.length);
      const floorKeys = Array.from(
        { length: rows.length },
        (_, i) => `${prefixes.floor}:${QueueNames.tokenRefresh}:${i + 1}`,
      );
      floor.sampled.push(await sampledBytesPerJob(redis, `${prefixes.floor}:${QueueNames.tokenRefresh}`, floorKeys));
      floorEncoding = await encodingOf(redis, floorKeys[0] ?? '');
      await floorQueue.close();
      await dropPrefix(redis, prefixes.floor);

      // B: ours, the reconciler rebuilding from Postgres into an empty queue, then a steady pass.
      const queues = createQueues({ connection: producer, prefix: prefixes.ours });
      const accounts = createAccounts({
        prisma: db.prisma,
        keyring: parseKeyring(generateKeyringEntry()),
        redis,
        queues,
        queuePrefix: prefixes.ours,
      });
      await dropPrefix(redis, prefixes.ours);
      const beforeOurs = (await memoryInfo(redis)).used;
      const [rebuildS, rebuild] = await seconds(() => accounts.reconcile({ pageSize: PAGE }));
      const infoOurs = ((await memoryInfo(redis)).used - beforeOurs) / rows.length;
      const [steadyS, steady] = await seconds(() => accounts.reconcile({ pageSize: PAGE, full: true }));
      const delayed = await queues.tokenRefresh.getDelayedCount();
      // A reconcile interval's worth of refreshes and connections: 1 % of the rows written.
      await db.prisma.$executeRawUnsafe(
        `UPDATE social_accounts SET updated_at = now() WHERE id IN (SELECT id FROM social_accounts TABLESAMPLE BERNOULLI (1))`,
      );
      const [changedS, changed] = await seconds(() => accounts.reconcile({ pageSize: PAGE }));
      if (changed?.mode !== 'changed' || changed.added !== 0) throw new Error('the watermark pass did not run as such');
      if (rebuild?.added !== rows.length || steady?.present !== rows.length || delayed !== rows.length) {
        throw new Error(
          `reconciler did not rebuild every job: added ${rebuild?.added}, present ${steady?.present}, delayed ${delayed}`,
        );
      }
      ours.rebuildS.push(rebuildS);
      ours.steadyS.push(steadyS);
      ours.changedS.push(changedS);
      ours.info.push(infoOurs);
      const ourKeys = rows.map((r) => `${prefixes.ours}:${QueueNames.tokenRefresh}:${jobIds.tokenRefresh(r.id)}`);
      ours.sampled.push(await sampledBytesPerJob(redis, `${prefixes.ours}:${QueueNames.tokenRefresh}`, ourKeys));
      oursEncoding = await encodingOf(redis, ourKeys[0] ?? '');
      await queues.close();
      await dropPrefix(redis, prefixes.ours);
      console.log(
        `round ${round}: floor addBulk ${floorS.toFixed(1)} s, ${floor.info.at(-1)?.toFixed(0)} B (INFO) / ${floor.sampled.at(-1)?.toFixed(0)} B (MEMORY USAGE); ` +
          `rebuild ${rebuildS.toFixed(1)} s, steady ${steadyS.toFixed(1)} s, watermark pass ${changedS.toFixed(2)} s (${changed.scanned} rows), ${infoOurs.toFixed(0)} B (INFO) / ${ours.sampled.at(-1)?.toFixed(0)} B (MEMORY USAGE)`,
      );
    }

    const load = `${loadStart}–${loadAverage()}`;
    const count = rows.length.toLocaleString('en');
    const memoryRow = (how: string, project: number[], baseline: number[]): BenchRow => {
      const value = spread(project, 0);
      return {
        measure: `Redis per scheduled account (${how}), ${count} accounts`,
        project: `one delayed refresh job per account (${oursEncoding} hash)`,
        baseline: `BullMQ floor: delayed job, empty data, default options, numeric id (${floorEncoding} hash)`,
        unit: 'B',
        projectValue: value,
        baselineValue: spread(baseline, 0),
        ratio: ratios(project, baseline),
        goal: '< 500 B',
        met: value.max < 500,
        rounds: ROUNDS,
        load,
      };
    };
    const rebuild = spread(ours.rebuildS, 1);
    const steady = spread(ours.steadyS, 2);
    const changed = spread(ours.changedS, 2);
    const rows_: BenchRow[] = [
      {
        measure: `reconciler rebuild after the queue's keys are lost, ${count} accounts`,
        project: 'reconcile(): keyset pages of 5,000, one Lua presence call + one addBulk per page',
        baseline: 'plain BullMQ addBulk of as many delayed jobs (floor)',
        unit: 's',
        projectValue: rebuild,
        baselineValue: spread(floor.s, 1),
        ratio: ratios(ours.rebuildS, floor.s),
        goal: N >= 1_000_000 ? '< 30 s' : null,
        met: N >= 1_000_000 ? rebuild.max < 30 : null,
        rounds: ROUNDS,
        load,
      },
      {
        measure: `reconciler steady full pass (every job present), ${count} accounts`,
        project: 'reconcile({ full: true }) with nothing missing (runs every 6 h)',
        baseline: '—',
        unit: 's',
        projectValue: steady,
        baselineValue: null,
        ratio: null,
        goal: N >= 1_000_000 ? '< 5 s' : null,
        met: N >= 1_000_000 ? steady.max < 5 : null,
        rounds: ROUNDS,
        load,
      },
      {
        measure: `reconciler periodic pass with its watermark, ${count} accounts, 1 % changed`,
        project: 'reconcile(): only rows updated since the previous pass (updated_at index)',
        baseline: '—',
        unit: 's',
        projectValue: changed,
        baselineValue: null,
        ratio: null,
        goal: N >= 1_000_000 ? '< 5 s' : null,
        met: N >= 1_000_000 ? changed.max < 5 : null,
        rounds: ROUNDS,
        load,
      },
      memoryRow('MEMORY USAGE', ours.sampled, floor.sampled),
      memoryRow('INFO used_memory delta', ours.info, floor.info),
    ];
    console.log(
      `\nrefresh scheduling, ${count} accounts, ${ROUNDS} interleaved rounds, load ${load}; hash-max-listpack: ${listpack.join(' ')}`,
    );
    for (const r of rows_) {
      const v = r.projectValue;
      const b = r.baselineValue;
      console.log(
        `${r.measure.padEnd(72)} ${`${v.median} ${r.unit} (${v.min}–${v.max})`.padStart(24)}` +
          (b ? `   floor ${b.median} ${r.unit} (${b.min}–${b.max}), ratio ${r.ratio?.median}` : '') +
          (r.goal ? `   goal ${r.goal}: ${r.met ? 'met' : 'NOT met'}` : ''),
      );
    }
    writeBenchRows(NAME, rows_);
  } finally {
    await deletePrefix(redis, prefixes.floor).catch(() => undefined);
    await deletePrefix(redis, prefixes.ours).catch(() => undefined);
    redis.disconnect();
    producer.disconnect();
    await db.drop();
  }
}

await main();
