/**
 * Throughput of `accounts(first: 50)` over 100,000 accounts in Postgres, against the same query answered by a
 * resolver that returns constant data (same schema, Mercurius and error formatter; no database, no auth). The ratio
 * says how much of the request cost the database path adds; the target is at least 0.3.
 *
 * Run from the repo root: `pnpm exec tsx apps/admin/bench/accounts.bench.ts [--accounts 100000] [--requests 3000]
 * [--concurrency 16] [--rounds 3] [--as-migrated]`. Each case runs in interleaved rounds (constant, database, …);
 * the median round is reported. Needs Postgres and Redis (TEST_DATABASE_URL / TEST_REDIS_URL, default local). Prints a table
 * and writes JSON to apps/admin/bench/results/.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseKeyring } from '@ttc/crypto';
import { createPrismaClient } from '@ttc/db';
import { createTestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection } from '@ttc/queue';
import Fastify, { type FastifyInstance } from 'fastify';
import mercurius from 'mercurius';
import { type BenchRow, loadNow, loadSpan, row, writeRows } from '../../../packages/devtools/bin/bench-rows.mjs';
import { buildAdmin } from '../src/app.js';
import { formatErrors, schema } from '../src/graphql/plugin.js';
import { DateTime, JSON_ } from '../src/graphql/resolvers/scalars.js';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '100000' },
    requests: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    // Measure the schema exactly as migrated, without adding the keyset index when it is missing.
    'as-migrated': { type: 'boolean', default: false },
  },
});
const ACCOUNTS = Number(args.accounts);
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const ROUNDS = Number(args.rounds);
// A bench is a dev tool like the tests: it reads the same TEST_* service URLs, not the app's configuration.
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const token = randomBytes(24).toString('base64url');

const QUERIES = {
  'accounts(first: 50)': `{ accounts(first: 50) { pageInfo { hasNextPage endCursor } edges { cursor node {
    id userId openId displayName username status accessTokenExpiresAt nextRefreshAt createdAt } } } }`,
  'accounts(first: 50) + totalCount': `{ accounts(first: 50) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id userId openId displayName username status accessTokenExpiresAt nextRefreshAt createdAt } } } }`,
};

interface Run {
  requests: number;
  seconds: number;
  rps: number;
  p50ms: number;
  p99ms: number;
}

async function load(url: string, query: string, requests: number, headers: Record<string, string>): Promise<Run> {
  const body = JSON.stringify({ query });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests) {
        next++;
        const t0 = performance.now();
        const res = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
        });
        const json = (await res.json()) as { errors?: unknown; data?: { accounts?: { edges?: unknown[] } } };
        if (res.status !== 200 || json.errors || json.data?.accounts?.edges?.length !== 50) {
          throw new Error(`unexpected response ${res.status}: ${JSON.stringify(json).slice(0, 300)}`);
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    Number((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(2));
  return {
    requests,
    seconds: Number(seconds.toFixed(2)),
    rps: Math.round(requests / seconds),
    p50ms: pct(0.5),
    p99ms: pct(0.99),
  };
}

async function constantServer(data: unknown): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(mercurius, {
    schema,
    resolvers: { DateTime, JSON: JSON_, Query: { accounts: () => data } } as never,
    errorFormatter: formatErrors as never,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

async function main() {
  const startLoad = loadNow();
  console.log(`node ${process.version}, ${cpus().length} CPUs; seeding ${ACCOUNTS.toLocaleString('en-US')} accounts…`);
  const db = await createTestDatabase({ serverUrl });
  const prisma = createPrismaClient(db.url, { poolSize: 10 });
  const redis = createRedisConnection(redisUrl, 'client', 'admin-bench');
  const queueConnection = createRedisConnection(redisUrl, 'producer', 'admin-bench');
  const queues = createQueues({ connection: queueConnection, prefix: `bench-${randomUUID()}` });
  const apps: FastifyInstance[] = [];
  try {
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO social_accounts (id, user_id, open_id, display_name, username, scopes, status,
         access_token_expires_at, next_refresh_at, created_at, updated_at, connected_at)
       SELECT gen_random_uuid(), 'user-' || (i % 5000), 'open-' || i, 'Creator ' || i, 'creator_' || i,
         ARRAY['user.info.basic','video.list'],
         (CASE WHEN i % 10 = 0 THEN 'DISCONNECTED' WHEN i % 10 = 1 THEN 'REAUTH_REQUIRED' ELSE 'ACTIVE' END)::account_status,
         now() + interval '1 day', now() + interval '23 hours',
         timestamp '2026-01-01' + i * interval '1 second', now(), timestamp '2026-01-01' + i * interval '1 second'
       FROM generate_series(1, $1::int) AS i`,
      ACCOUNTS,
    );
    // The keyset order (created_at desc, id desc) needs an index of that shape to stop after one page; without it
    // every request sorts the whole table. Until the migrations have it, the bench adds it (and says so).
    const [existing] = await db.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_indexes
      WHERE tablename = 'social_accounts' AND indexdef ILIKE '%(created_at DESC, id DESC)%'`;
    let keysetIndex = existing && existing.n > 0 ? 'from migrations' : 'missing';
    if (keysetIndex === 'missing' && !args['as-migrated']) {
      await db.prisma.$executeRawUnsafe(
        'CREATE INDEX social_accounts_created_at_id_idx ON social_accounts (created_at DESC, id DESC)',
      );
      keysetIndex = 'added by the bench (not yet in prisma/migrations)';
    }
    console.log(`keyset index (created_at DESC, id DESC): ${keysetIndex}`);
    await db.prisma.$executeRawUnsafe('VACUUM ANALYZE social_accounts');

    const admin = await buildAdmin({
      config: {
        env: 'production',
        adminApiTokens: [token],
        cookieSecret: randomBytes(32).toString('base64url'),
        queuePrefix: 'bench',
        publicAdminUrl: 'http://127.0.0.1',
        refreshLeadSeconds: 600,
      },
      prisma,
      redis,
      queues,
      keyring: parseKeyring(`k1:${randomBytes(32).toString('base64')}`),
    });
    apps.push(admin);
    const adminUrl = await admin.listen({ host: '127.0.0.1', port: 0 });
    const auth = { authorization: `Bearer ${token}` };

    const results: Record<string, unknown>[] = [];
    const rows: BenchRow[] = [];
    for (const [name, query] of Object.entries(QUERIES)) {
      // The constant resolver returns exactly what the database path returned once.
      const first = (await (
        await fetch(`${adminUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify({ query }),
        })
      ).json()) as { data: { accounts: Record<string, unknown> } };
      const constant = await constantServer(first.data.accounts);
      apps.push(constant);
      const constantUrl = `http://127.0.0.1:${(constant.server.address() as { port: number }).port}`;

      const warmup = Math.min(500, Math.ceil(REQUESTS / 5));
      await load(constantUrl, query, warmup, {});
      await load(adminUrl, query, warmup, auth);
      // Interleaved rounds (constant, database, constant, …): other processes on a small machine add noise to
      // single runs; each round's ratio compares two neighbouring runs.
      const runs: { constant: Run; db: Run }[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const constantRun = await load(constantUrl, query, REQUESTS, {});
        runs.push({ constant: constantRun, db: await load(adminUrl, query, REQUESTS, auth) });
      }
      const mid = [...runs].sort((a, b) => a.db.rps / a.constant.rps - b.db.rps / b.constant.rps)[
        Math.floor(runs.length / 2)
      ] as { constant: Run; db: Run };
      const ratio = Number((mid.db.rps / mid.constant.rps).toFixed(3));
      results.push({ query: name, server: 'constant resolver', ...mid.constant });
      results.push({ query: name, server: 'postgres', ...mid.db, ratio });
      rows.push(
        row({
          measure: `admin GraphQL ${name}, ${ACCOUNTS.toLocaleString('en')} accounts`,
          project: 'admin API on Postgres',
          baseline: 'same schema, constant resolver',
          unit: 'req/s',
          projectRounds: runs.map((x) => x.db.rps),
          baselineRounds: runs.map((x) => x.constant.rps),
          goal: '≥ 0.3',
          meets: (x) => x >= 0.3,
          load: '',
        }),
      );
      await constant.close();
    }
    console.table(results);

    const output = {
      bench: 'admin accounts(first: 50)',
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      accounts: ACCOUNTS,
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      keysetIndex,
      target: 'postgres rps / constant rps >= 0.3',
      results,
    };
    const dir = new URL('./results/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    const file = new URL(`accounts-${output.date.replace(/[:.]/g, '-')}.json`, dir);
    writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`);
    writeFileSync(new URL('accounts-latest.json', dir), `${JSON.stringify(output, null, 2)}\n`);
    console.log(`written to ${file.pathname}`);
    const loadRange = loadSpan(startLoad);
    writeRows(
      fileURLToPath(dir),
      'admin',
      rows.map((r) => ({ ...r, load: loadRange })),
    );
  } finally {
    for (const app of apps.reverse()) await app.close().catch(() => {});
    await queues.close();
    redis.disconnect();
    queueConnection.disconnect();
    await prisma.$disconnect();
    await db.drop();
  }
}

await main();
