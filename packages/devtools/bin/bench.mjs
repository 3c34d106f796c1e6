#!/usr/bin/env node
// `pnpm bench [name…]`: runs the project's benchmarks one after another (never in parallel: the machine they run on
// is small, and each bench compares against a baseline measured in the same run). Each prints its own table and
// writes JSON under its app's bench/results/. Names: redirect, admin, refresh, reconcile, events, policy, webhooks,
// startup (default: all).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrap, root } from './bootstrap.mjs';

const benches = {
  redirect: {
    what: 'authorize redirect vs a bare Fastify 302 (target ratio ≥ 0.5)',
    file: 'apps/gateway/bench/start-redirect.ts',
    args: ['3', '32', '3'],
  },
  refresh: {
    what: 'Redis per scheduled account at 100,000 vs the BullMQ floor (goal < 500 B), reconciler passes, 3 interleaved rounds',
    file: 'apps/worker/bench/refresh-scheduling.bench.ts',
    args: ['100000', '3', 'refresh'],
  },
  reconcile: {
    what: 'reconciler at 1,000,000 accounts: rebuild (goal < 30 s), steady passes (goal < 5 s), Redis per account, 3 rounds',
    file: 'apps/worker/bench/refresh-scheduling.bench.ts',
    args: ['1000000', '3', 'reconcile'],
  },
  events: {
    what: 'account_events bytes per account per month with and without pruning routine events (30-day retention), 3 rounds',
    file: 'apps/worker/bench/event-retention.bench.ts',
    args: ['300', '3'],
  },
  policy: {
    what: 'refresh policy: TikTok calls per account per day (policy off / in use / idle), one worker vs a raw refresh loop, cost of recording use',
    file: 'apps/worker/bench/refresh-policy.bench.ts',
    args: ['1000', '3', '15'],
  },
  admin: {
    what: 'GraphQL accounts(first: 50) over 100,000 accounts vs a constant resolver (target ratio ≥ 0.3)',
    file: 'apps/admin/bench/accounts.bench.ts',
    args: [],
  },
  webhooks: {
    what: 'webhook delivery end to end (outbox rows → worker → local receiver) vs plain fetch POSTs, interleaved rounds',
    file: 'apps/worker/bench/webhook-delivery.bench.ts',
    args: [],
  },
  startup: {
    what: 'time to /readyz and idle RSS of each app, tsx vs compiled (node dist/…), 3 interleaved rounds',
    file: 'packages/devtools/bin/bench-startup.mjs',
    args: ['3'],
    // Plain Node: it runs tsx itself for the comparison.
    runner: ['node'],
  },
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((n) => !(n in benches));
if (unknown.length > 0) {
  console.error(`Unknown bench ${unknown.join(', ')}; choose from ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
bootstrap({ quiet: true });
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };
env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/postgres';
env.TEST_DATABASE_URL ??= env.DATABASE_URL;
env.REDIS_URL ??= 'redis://127.0.0.1:6379';
env.TEST_REDIS_URL ??= env.REDIS_URL;

let failed = 0;
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) {
  const bench = benches[name];
  if (!existsSync(join(root, bench.file))) {
    console.log(`\n== ${name}: ${bench.file} not present, skipped`);
    continue;
  }
  const [command, ...runnerArgs] = bench.runner ?? ['pnpm', 'exec', 'tsx'];
  console.log(`\n== ${name}: ${bench.what}\n   ${[command, ...runnerArgs, bench.file, ...bench.args].join(' ')}`);
  const started = Date.now();
  const result = spawnSync(command, [...runnerArgs, bench.file, ...bench.args], { cwd: root, env, stdio: 'inherit' });
  console.log(`   (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  if (result.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
