#!/usr/bin/env node
// `pnpm bench [name…]`: runs the project's benchmarks one after another (never in parallel: the machine they run on
// is small, and each bench compares against a baseline measured in the same run, in interleaved rounds). Each prints
// its own table and writes its rows (the shared format, bench-rows.mjs) to `<app>/bench/results/<name>.json`; then
// this prints ONE Markdown table of the rows of the benches it ran and writes it to `bench-results.md`.
// Names: see `benches` below (default: all): redirect, admin, refresh, reconcile, events, policy, webhooks, startup, … `pnpm bench --table` only rebuilds the table from the results files
// already there (every `<app>/bench/results/*.json` in the shared format: each bench's latest run), running nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { markdownTable } from './bench-rows.mjs';
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
    results: 'packages/devtools/bench/results',
  },
  'connect-processing': {
    what: 'account.connected jobs through the worker vs a raw single-connection pg INSERT … ON CONFLICT loop (≥ 0.5)',
    file: 'apps/worker/bench/connect-processing.bench.ts',
    args: [],
  },
  'connect-latency': {
    what: 'callback → outcome page through the sandbox, worker idle, 50 sequential connections (p50 < 30 ms, p95 < 60 ms)',
    file: 'apps/gateway/bench/connect-latency.bench.ts',
    args: [],
  },
  'gateway-api': {
    what: 'POST /v1/connect-sessions and GET /v1/accounts/:id/access-token vs bare Fastify + the same Redis/pg work',
    file: 'apps/gateway/bench/gateway-api.bench.ts',
    args: [],
  },
};

/** Where a bench writes `<name>.json`: `<app>/bench/results` (next to its file) unless it says otherwise. */
const resultsFile = (name, bench) =>
  join(root, bench.results ?? join(dirname(bench.file).replace(/\/bin$/, '/bench'), 'results'), `${name}.json`);

function readRows(name, bench, since = 0) {
  try {
    const parsed = JSON.parse(readFileSync(resultsFile(name, bench), 'utf8'));
    if (!Array.isArray(parsed.rows) || Date.parse(parsed.at) < since) return [];
    return parsed.rows;
  } catch {
    return [];
  }
}

function writeTable(rows, note) {
  const table = markdownTable(rows);
  console.log(`\n${note}\n\n${table}`);
  writeFileSync(join(root, 'bench-results.md'), `${note}\n\n${table}\n`);
  console.log(`\n(written to bench-results.md)`);
}

/** Every results file in the shared format under apps/* and packages/* (also benches this list does not name). */
function allResultFiles() {
  const files = [];
  for (const group of ['apps', 'packages']) {
    for (const dir of readdirSync(join(root, group), { withFileTypes: true })) {
      const results = join(root, group, dir.name, 'bench', 'results');
      if (!dir.isDirectory() || !existsSync(results)) continue;
      for (const f of readdirSync(results)) if (f.endsWith('.json')) files.push(join(results, f));
    }
  }
  return files;
}

if (process.argv.includes('--table')) {
  const rows = allResultFiles().flatMap((file) => {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8'));
      return typeof parsed.bench === 'string' && Array.isArray(parsed.rows) ? parsed.rows : [];
    } catch {
      return [];
    }
  });
  writeTable(rows, `Latest rows of every bench (\`pnpm bench --table\`), ${new Date().toISOString()}`);
  process.exit(0);
}

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
const runStarted = Date.now();
const ran = [];
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
  ran.push(name);
}
const rows = ran.flatMap((name) => {
  const found = readRows(name, benches[name], runStarted);
  if (found.length === 0) console.log(`   (${name} wrote no rows)`);
  return found;
});
writeTable(
  rows,
  `\`pnpm bench ${wanted.join(' ')}\`, ${new Date().toISOString()}, ${ran.length} bench(es)`.replace('  ', ' '),
);
process.exit(failed > 0 ? 1 : 0);
