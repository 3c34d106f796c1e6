// Refresh scheduling benchmark: `pnpm --filter @ttc/worker run bench` (or `pnpm exec tsx apps/worker/bench/refresh-scheduling.bench.ts`).
//
// For N accounts (default 100,000; BENCH_ACCOUNTS) it measures, in one run, on the local Redis and a throwaway
// Postgres database:
//   (a) a plain `queue.addBulk` of N delayed jobs (pages of 5,000), the baseline;
//   (b) the production bulk path, `refreshJobs.ensure` (one Lua existence check + one addBulk per page of 5,000);
//   (c) the reconciler rebuilding every job from Postgres after the queue's keys were deleted (its FLUSHALL);
//   (d) a steady-state reconciler pass (every job present: the periodic cost);
// and Redis memory per scheduled account (INFO used_memory delta, and MEMORY USAGE of the keys involved).
// The Redis is shared with other people's tests, so nothing is flushed: each phase uses its own key prefix and
// deletes it afterwards with SCAN + UNLINK. Env: BENCH_DATABASE_URL / TEST_DATABASE_URL, BENCH_REDIS_URL / TEST_REDIS_URL.
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createAccounts } from '@ttc/accounts';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase } from '@ttc/db/testing';
import type { RedisClient } from '@ttc/queue';
import { createQueues, createRedisConnection, jobIds, QueueNames } from '@ttc/queue';
import { row, writeRows } from '../../../packages/devtools/bin/bench-rows.mjs';
import { deletePrefix, writeResults } from './support.js';

const N = Number(process.env.BENCH_ACCOUNTS ?? 100_000);
const PAGE = 5_000;
const serverUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function usedMemory(redis: RedisClient): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** MEMORY USAGE of a sample of job hashes, plus the queue-level keys, per job. */
async function sampledBytesPerJob(redis: RedisClient, prefix: string, ids: string[], count: number): Promise<number> {
  const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / 200)) === 0).slice(0, 200);
  let hashBytes = 0;
  for (const id of sample) {
    hashBytes +=
      Number(
        await redis.call(
          'MEMORY',
          'USAGE',
          `${prefix}:${QueueNames.tokenRefresh}:${jobIds.tokenRefresh(id)}`,
          'SAMPLES',
          '0',
        ),
      ) || 0;
  }
  let shared = 0;
  for (const key of ['delayed', 'events', 'meta', 'marker', 'id']) {
    shared +=
      Number(await redis.call('MEMORY', 'USAGE', `${prefix}:${QueueNames.tokenRefresh}:${key}`, 'SAMPLES', '0')) || 0;
  }
  return hashBytes / sample.length + shared / count;
}

const time = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
  const started = performance.now();
  const result = await fn();
  return [performance.now() - started, result];
};

async function main() {
  const startLoad = loadavg()[0] ?? 0;
  const db = await createTestDatabase({ serverUrl, poolSize: 5 });
  const redis = createRedisConnection(redisUrl, 'client', 'bench');
  const producer = createRedisConnection(redisUrl, 'producer', 'bench', { commandTimeout: 60_000 });
  const runId = randomUUID().slice(0, 8);
  const prefixes = { plain: `bench-plain-${runId}`, prod: `bench-prod-${runId}` };
  try {
    // Seed N ACTIVE accounts in one statement (plus a few inactive ones the reconciler must skip).
    const [seedMs] = await time(() =>
      db.prisma.$executeRawUnsafe(`
        INSERT INTO social_accounts (id, user_id, platform, open_id, display_name, scopes, status,
          access_token_ciphertext, refresh_token_ciphertext, access_token_expires_at, refresh_token_expires_at,
          tokens_obtained_at, next_refresh_at, connected_at, created_at, updated_at)
        SELECT gen_random_uuid(), 'bench-user-' || (g % 1000), 'TIKTOK', 'bench-open-' || g, 'Bench ' || g,
          ARRAY['user.info.basic'], CASE WHEN g <= ${N} THEN 'ACTIVE' ELSE 'REAUTH_REQUIRED' END::account_status,
          'v1.k.bench.ct', 'v1.k.bench.ct', t.obtained + interval '24 hours', t.obtained + interval '365 days',
          t.obtained, t.obtained + interval '24 hours' - interval '600 seconds', t.obtained, now(), now()
        FROM generate_series(1, ${N + 1000}) g,
          LATERAL (SELECT now() - random() * interval '23 hours' AS obtained) t`),
    );
    const rows = await db.prisma.$queryRaw<{ id: string; next_refresh_at: Date }[]>`
      SELECT id::text AS id, next_refresh_at FROM social_accounts WHERE status = 'ACTIVE' ORDER BY id`;
    const accounts = rows.map((r) => ({ id: r.id, nextRefreshAt: r.next_refresh_at }));
    console.log(`seeded ${rows.length} active accounts in ${seedMs.toFixed(0)} ms`);

    // (a) Plain addBulk of as many delayed jobs: same payload, job ids, options and page size as production.
    const plainQueues = createQueues({ connection: producer, prefix: prefixes.plain });
    const memBeforePlain = await usedMemory(redis);
    const [plainMs] = await time(async () => {
      for (let i = 0; i < accounts.length; i += PAGE) {
        const now = Date.now();
        await plainQueues.tokenRefresh.addBulk(
          accounts.slice(i, i + PAGE).map((a) => ({
            name: QueueNames.tokenRefresh,
            data: { accountId: a.id },
            opts: { jobId: jobIds.tokenRefresh(a.id), delay: Math.max(0, a.nextRefreshAt.getTime() - now) },
          })),
        );
      }
    });
    const plainBytes = (await usedMemory(redis)) - memBeforePlain;
    await deletePrefix(redis, prefixes.plain);
    await plainQueues.close();

    // (b) The production bulk scheduling function, same accounts, from empty.
    const queues = createQueues({ connection: producer, prefix: prefixes.prod });
    const accountsService = createAccounts({
      prisma: db.prisma,
      keyring: parseKeyring(generateKeyringEntry()),
      redis,
      queues,
      queuePrefix: prefixes.prod,
    });
    const memBeforeProd = await usedMemory(redis);
    const [prodMs] = await time(async () => {
      for (let i = 0; i < accounts.length; i += PAGE)
        await accountsService.refreshJobs.ensure(accounts.slice(i, i + PAGE));
    });
    const prodBytes = (await usedMemory(redis)) - memBeforeProd;
    const sampled = await sampledBytesPerJob(
      redis,
      prefixes.prod,
      accounts.map((a) => a.id),
      accounts.length,
    );
    const delayed = await queues.tokenRefresh.getDelayedCount();

    // (c) Lose every key of the queue ("FLUSHALL" of this prefix), then let the reconciler rebuild from Postgres.
    const deletedKeys = await deletePrefix(redis, prefixes.prod);
    const [rebuildMs, rebuild] = await time(() => accountsService.reconcile({ pageSize: PAGE }));
    const rebuilt = await queues.tokenRefresh.getDelayedCount();

    // (d) A periodic pass with every job present.
    const [steadyMs, steady] = await time(() => accountsService.reconcile({ pageSize: PAGE }));
    await deletePrefix(redis, prefixes.prod);
    await queues.close();

    const results = {
      accounts: accounts.length,
      pageSize: PAGE,
      at: new Date().toISOString(),
      node: process.version,
      plainAddBulkMs: Math.round(plainMs),
      scheduleRefreshJobsMs: Math.round(prodMs),
      ratioScheduleVsAddBulk: Number((prodMs / plainMs).toFixed(2)),
      reconcilerRebuildMs: Math.round(rebuildMs),
      ratioRebuildVsAddBulk: Number((rebuildMs / plainMs).toFixed(2)),
      reconcilerSteadyPassMs: Math.round(steadyMs),
      bytesPerJobPlainInfo: Math.round(plainBytes / accounts.length),
      bytesPerAccountInfo: Math.round(prodBytes / accounts.length),
      bytesPerAccountSampled: Math.round(sampled),
      delayedAfterSchedule: delayed,
      keysDeletedAsFlush: deletedKeys,
      delayedAfterRebuild: rebuilt,
      rebuildReport: rebuild,
      steadyReport: steady,
    };
    const table: [string, string, string][] = [
      ['plain addBulk of N delayed jobs', `${results.plainAddBulkMs} ms`, 'baseline'],
      [
        'refreshJobs.ensure (production bulk path)',
        `${results.scheduleRefreshJobsMs} ms`,
        `${results.ratioScheduleVsAddBulk}× (target ≤ 2×)`,
      ],
      [
        'reconciler rebuild after key loss (incl. Postgres)',
        `${results.reconcilerRebuildMs} ms`,
        `${results.ratioRebuildVsAddBulk}× addBulk`,
      ],
      ['reconciler steady pass (all present)', `${results.reconcilerSteadyPassMs} ms`, ''],
      ['Redis memory per scheduled account (INFO delta)', `${results.bytesPerAccountInfo} B`, 'target < 1 KB'],
      ['Redis memory per scheduled account (MEMORY USAGE)', `${results.bytesPerAccountSampled} B`, 'target < 1 KB'],
      ['jobs delayed after schedule / after rebuild', `${delayed} / ${rebuilt}`, `of ${accounts.length}`],
    ];
    console.log(`\nrefresh scheduling, ${accounts.length.toLocaleString('en')} accounts`);
    for (const [what, value, note] of table) console.log(`${what.padEnd(52)} ${value.padStart(12)}  ${note}`);
    writeResults('refresh-scheduling', results);
    // The shared row format (pnpm bench's table). One pass of each phase: the phases change Redis's state (schedule,
    // lose every key, rebuild, steady), so they are not repeated in rounds.
    const load = `${startLoad.toFixed(1)}–${(loadavg()[0] ?? 0).toFixed(1)}`;
    const n = accounts.length.toLocaleString('en');
    writeRows(fileURLToPath(new URL('./results/', import.meta.url)), 'refresh', [
      row({
        measure: `scheduling ${n} refresh jobs (refreshJobs.ensure), as a ratio ours / baseline`,
        project: 'refreshJobs.ensure',
        baseline: 'plain addBulk, same jobs',
        unit: 'ms',
        projectRounds: [prodMs],
        baselineRounds: [plainMs],
        goal: '≤ 2',
        meets: (x) => x <= 2,
        load,
      }),
      row({
        measure: `reconciler rebuild after losing every key, ${n} accounts`,
        project: 'accounts.reconcile',
        unit: 'ms',
        projectRounds: [rebuildMs],
        load,
      }),
      row({
        measure: `reconciler steady pass, ${n} accounts`,
        project: 'accounts.reconcile',
        unit: 'ms',
        projectRounds: [steadyMs],
        load,
      }),
      row({
        measure: 'Redis bytes per scheduled account (INFO used_memory delta)',
        project: 'refreshJobs.ensure',
        baseline: 'plain addBulk',
        unit: 'B',
        projectRounds: [results.bytesPerAccountInfo],
        baselineRounds: [results.bytesPerJobPlainInfo],
        judge: 'project',
        goal: '< 1,000 B',
        meets: (x) => x < 1000,
        load,
      }),
    ]);
  } finally {
    await deletePrefix(redis, prefixes.plain).catch(() => undefined);
    await deletePrefix(redis, prefixes.prod).catch(() => undefined);
    redis.disconnect();
    producer.disconnect();
    await db.drop();
  }
}

await main();
