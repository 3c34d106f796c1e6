// Event growth benchmark: `pnpm bench events` (or `pnpm exec tsx apps/worker/bench/event-retention.bench.ts
// [accounts] [rounds]`).
//
// Table bytes of `account_events` per account per month, with and without the worker's pruning of routine REFRESHED
// events (`pruneEvents`, EVENT_RETENTION_DAYS = 30). For A accounts (default 300), each month adds what 2-hour tokens
// refreshed ahead of every expiry write: 12 REFRESHED events per account per day (the worst case: every account in
// use), plus one state change per account (a REFRESH_FAILED). Three months are written in 10-day steps, with the
// service's clock at the end of each step; after each step the "with" variant runs `pruneEvents` (as the reconciler
// passes would) and both variants run VACUUM (what autovacuum does), then `pg_total_relation_size('account_events')`
// is read. Growth per month is the size difference over the third month (the steady state: 30 days are kept)
// divided by A. Interleaved rounds: without, with, without, with, …
// Env: BENCH_DATABASE_URL / TEST_DATABASE_URL, BENCH_REDIS_URL / TEST_REDIS_URL.
import { randomUUID } from 'node:crypto';
import { createAccounts } from '@ttc/accounts';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection } from '@ttc/queue';
import { type BenchRow, deletePrefix, loadAverage, ratios, spread, writeBenchRows } from './support.js';

const A = Number(process.argv[2] ?? 300);
const ROUNDS = Number(process.argv[3] ?? 3);
const MONTHS = 3;
const DAY = 86_400_000;
const serverUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Writes one month of events (month 1 = the oldest) for every account, and returns the bytes after VACUUM. */
async function runVariant(prune: boolean): Promise<{ perMonth: number[]; rows: number }> {
  const db = await createTestDatabase({ serverUrl, poolSize: 2 });
  const redis = createRedisConnection(redisUrl, 'client', 'bench');
  const prefix = `bench-events-${randomUUID().slice(0, 8)}`;
  const queues = createQueues({ connection: redis, prefix });
  const start = Date.now() - MONTHS * 30 * DAY;
  let clock = start;
  const accounts = createAccounts({
    prisma: db.prisma,
    keyring: parseKeyring(generateKeyringEntry()),
    redis,
    queues,
    queuePrefix: prefix,
    now: () => clock,
  });
  try {
    await db.prisma.$executeRawUnsafe(`
      INSERT INTO social_accounts (id, user_id, platform, open_id, display_name, scopes, status, tokens_obtained_at,
        connected_at, created_at, updated_at)
      SELECT gen_random_uuid(), 'bench-user-' || g, 'TIKTOK', 'bench-open-' || g, 'Bench ' || g,
        ARRAY['user.info.basic'], 'ACTIVE', now(), now(), now(), now()
      FROM generate_series(1, ${A}) g`);
    const sizes: number[] = [];
    for (let step = 1; step <= MONTHS * 3; step++) {
      const stepStart = new Date(start + (step - 1) * 10 * DAY);
      // 12 refreshes a day for 10 days, as persistRefreshedTokens writes them, and a REFRESH_FAILED every 30 days.
      await db.prisma.$executeRaw`
        INSERT INTO account_events (account_id, type, message, data, created_at)
        SELECT a.id, 'REFRESHED', 'Tokens refreshed',
          jsonb_build_object('reason', 'scheduled', 'tokenVersion', s.n, 'expiresIn', 7200,
            'refreshExpiresIn', 15552000, 'accessTokenExpiresAt', to_char(t.at + interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'nextRefreshAt', to_char(t.at + interval '110 minutes', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'policy', 'in-use', 'previousFailures', 0),
          t.at
        FROM generate_series(0, 119) s(n)
        CROSS JOIN social_accounts a
        CROSS JOIN LATERAL (SELECT ${stepStart}::timestamptz + s.n * interval '2 hours' AS at) t
        ORDER BY t.at`;
      if (step % 3 === 2) {
        await db.prisma.$executeRaw`
          INSERT INTO account_events (account_id, type, message, data, created_at)
          SELECT id, 'REFRESH_FAILED', 'Refresh failed: TIKTOK_SERVER_ERROR',
            jsonb_build_object('code', 'TIKTOK_SERVER_ERROR', 'message', 'TikTok answered 500', 'failures', 1),
            ${new Date(stepStart.getTime() + 5 * DAY)}
          FROM social_accounts`;
      }
      clock = stepStart.getTime() + 10 * DAY;
      if (prune) {
        // As consecutive reconciler passes would: until a pass stops short of its batch limit.
        while ((await accounts.pruneEvents({ retentionDays: 30, maxBatches: 50 })).batches >= 50);
      }
      await db.prisma.$executeRawUnsafe('VACUUM account_events');
      const [size] = await db.prisma.$queryRaw<{ bytes: number }[]>`
        SELECT pg_total_relation_size('account_events')::float8 AS bytes`;
      if (step % 3 === 0) sizes.push(size?.bytes ?? 0);
    }
    const [count] = await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM account_events`;
    return { perMonth: sizes, rows: count?.n ?? 0 };
  } finally {
    await queues.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await db.drop();
  }
}

async function main() {
  const loadStart = loadAverage();
  const without: number[] = [];
  const withPrune: number[] = [];
  const withTotal: number[] = [];
  const withoutTotal: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const prune of [false, true]) {
      const { perMonth, rows } = await runVariant(prune);
      const growth = ((perMonth[MONTHS - 1] ?? 0) - (perMonth[MONTHS - 2] ?? 0)) / A;
      const total = (perMonth[MONTHS - 1] ?? 0) / A;
      (prune ? withPrune : without).push(growth);
      (prune ? withTotal : withoutTotal).push(total);
      console.log(
        `round ${round} ${prune ? 'with pruning   ' : 'without pruning'}: bytes/account after each month ${perMonth
          .map((b) => Math.round(b / A))
          .join(' → ')}, growth in month ${MONTHS} ${Math.round(growth)} B/account, ${rows} rows left`,
      );
    }
  }
  const load = `${loadStart}–${loadAverage()}`;
  const rows: BenchRow[] = [
    {
      measure: `account_events growth per account per month (month ${MONTHS}), 12 refreshes/day, ${A} accounts`,
      project: 'pruneEvents (EVENT_RETENTION_DAYS=30) in the reconciler pass, then VACUUM',
      baseline: 'no pruning (every REFRESHED event kept)',
      unit: 'B',
      projectValue: spread(withPrune, 0),
      baselineValue: spread(without, 0),
      ratio: ratios(
        withPrune.map((v) => Math.max(v, 1)),
        without,
      ),
      goal: 'bounded (≈ 0 growth at steady state)',
      met: spread(withPrune, 0).max < 0.1 * spread(without, 0).min,
      rounds: ROUNDS,
      load,
    },
    {
      measure: `account_events bytes per account after ${MONTHS} months, 12 refreshes/day, ${A} accounts`,
      project: 'with pruning (30 days kept)',
      baseline: 'without pruning',
      unit: 'B',
      projectValue: spread(withTotal, 0),
      baselineValue: spread(withoutTotal, 0),
      ratio: ratios(withTotal, withoutTotal),
      goal: null,
      met: null,
      rounds: ROUNDS,
      load,
    },
  ];
  console.log(`\nevent growth, ${A} accounts, ${ROUNDS} interleaved rounds, load ${load}`);
  for (const r of rows) {
    console.log(
      `${r.measure}\n  ${r.project}: ${r.projectValue.median} B (${r.projectValue.min}–${r.projectValue.max}); ` +
        `${r.baseline}: ${r.baselineValue?.median} B (${r.baselineValue?.min}–${r.baselineValue?.max}); ratio ${r.ratio?.median}`,
    );
  }
  writeBenchRows('events', rows);
}

await main();
