#!/usr/bin/env node
// `pnpm bench startup [rounds]`: time to a ready answer and idle memory of each app, run through tsx (as `pnpm start`
// does, minus pnpm) and compiled (`node dist/…`, as the image does), measured in the same run and interleaved
// (tsx first in odd rounds, compiled first in even ones) so that a busy machine hurts both alike.
// Time to ready: from spawn until the app's readiness URL answers 200 (polled every 20 ms). Idle RSS: the whole
// process tree (tsx runs the app in a child node process) IDLE_MS after ready. Production settings, a database of its
// own (`ttc_bench_startup`, migrated here) and a Redis key prefix of its own.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadNow, loadSpan, row, writeRows } from './bench-rows.mjs';
import { bootstrap, root } from './bootstrap.mjs';

const rounds = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 3);
const startLoad = loadNow();
const IDLE_MS = 3_000;
const READY_TIMEOUT_MS = 60_000;

const apps = [
  { name: 'gateway', dir: 'apps/gateway', src: 'src/server.ts', dist: 'dist/server.js', port: 'GATEWAY_PORT' },
  { name: 'admin', dir: 'apps/admin', src: 'src/server.ts', dist: 'dist/server.js', port: 'ADMIN_PORT' },
  { name: 'worker', dir: 'apps/worker', src: 'src/main.ts', dist: 'dist/main.js', port: 'WORKER_METRICS_PORT' },
  {
    name: 'tiktok-sandbox',
    dir: 'apps/tiktok-sandbox',
    src: 'src/server.ts',
    dist: 'dist/server.js',
    port: 'SANDBOX_PORT',
    // The sandbox has no /readyz: its first control route answering means it is serving.
    readyPath: '/__sandbox/users',
  },
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** VmRSS of pid and all its descendants, in bytes (Linux /proc). */
function treeRss(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop();
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
      total += Number(kb ?? 0) * 1024;
    } catch {
      // exited meanwhile
    }
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

async function waitReady(url, child) {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before being ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  throw new Error(`${url} not ready within ${READY_TIMEOUT_MS} ms`);
}

async function measure(app, mode, env) {
  const cwd = join(root, app.dir);
  const args = mode === 'tsx' ? [join(cwd, 'node_modules', 'tsx', 'dist', 'cli.mjs'), app.src] : [app.dist];
  const output = [];
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => output.push(d));
  child.stderr.on('data', (d) => output.push(d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await waitReady(`http://127.0.0.1:${env[app.port]}${app.readyPath ?? '/readyz'}`, child);
    const readyMs = performance.now() - started;
    await sleep(IDLE_MS);
    return { readyMs, rssBytes: treeRss(child.pid) };
  } catch (error) {
    process.stderr.write(Buffer.concat(output));
    throw new Error(`${app.name} (${mode}): ${error.message}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (values, format) =>
  `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
const ms = (v) => `${Math.round(v)} ms`;
const mb = (v) => `${Math.round(v / 1024 / 1024)} MB`;

bootstrap({ quiet: true });
console.log('building (pnpm build)…');
const built = spawnSync('pnpm', ['run', '--silent', 'build', '--output-logs=errors-only'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
});
if (built.status !== 0) process.exit(built.status ?? 1);
for (const app of apps) {
  if (!existsSync(join(root, app.dir, app.dist))) throw new Error(`${app.dir}/${app.dist} was not built`);
}

const ports = Object.fromEntries(await Promise.all(apps.map(async (a) => [a.port, String(await freePort())])));
const sandboxUrl = `http://127.0.0.1:${ports.SANDBOX_PORT}`;
const env = {
  ...process.env,
  ...ports,
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ttc_bench_startup',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: 'ttc-bench-startup',
  TIKTOK_CLIENT_KEY: 'sbx_client_key',
  TIKTOK_CLIENT_SECRET: 'sbx_client_secret',
  TIKTOK_AUTH_URL: `${sandboxUrl}/v2/auth/authorize/`,
  TIKTOK_API_URL: sandboxUrl,
  SANDBOX_PUBLIC_URL: sandboxUrl,
  PUBLIC_GATEWAY_URL: 'https://connect.example.test',
  PUBLIC_ADMIN_URL: 'https://admin.example.test',
  GATEWAY_API_KEYS: 'bench-startup-gateway-key-0123456789',
  ADMIN_API_TOKENS: 'bench-startup-admin-token-0123456789',
  ALLOWED_RETURN_ORIGINS: 'https://app.example.test',
  TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  COOKIE_SECRET: 'bench-startup-cookie-secret-0123456789abcdef',
};
const migrated = spawnSync(process.execPath, ['packages/db/dist/migrate.js'], { cwd: root, env, stdio: 'inherit' });
if (migrated.status !== 0) process.exit(migrated.status ?? 1);

const results = Object.fromEntries(apps.map((a) => [a.name, { tsx: [], compiled: [] }]));
for (let round = 1; round <= rounds; round++) {
  for (const app of apps) {
    const order = round % 2 === 1 ? ['tsx', 'compiled'] : ['compiled', 'tsx'];
    for (const mode of order) {
      const m = await measure(app, mode, env);
      results[app.name][mode].push(m);
      console.log(
        `round ${round} ${app.name.padEnd(15)} ${mode.padEnd(8)} ready ${ms(m.readyMs)}, RSS ${mb(m.rssBytes)}`,
      );
    }
  }
}

const lines = [`| app | time to ready, tsx | compiled | idle RSS, tsx | compiled |`, `|---|---|---|---|---|`];
for (const app of apps) {
  const r = results[app.name];
  const ready = (mode) =>
    summary(
      r[mode].map((m) => m.readyMs),
      ms,
    );
  const rss = (mode) =>
    summary(
      r[mode].map((m) => m.rssBytes),
      mb,
    );
  lines.push(`| ${app.name} | ${ready('tsx')} | ${ready('compiled')} | ${rss('tsx')} | ${rss('compiled')} |`);
}
console.log(`\nmedian (min–max) over ${rounds} interleaved rounds, idle RSS ${IDLE_MS / 1000} s after ready:\n`);
console.log(lines.join('\n'));

const dir = join(root, 'packages', 'devtools', 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `startup-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ rounds, idleMs: IDLE_MS, node: process.version, results }, null, 2)}\n`);
console.log(`\n${file}`);
// The shared row format (pnpm bench's table): compiled against tsx, per app; ratio = compiled / tsx.
const load = loadSpan(startLoad);
writeRows(
  dir,
  'startup',
  apps.flatMap((app) => {
    const r = results[app.name];
    const of = (mode, key) => r[mode].map((m) => m[key]);
    const common = { project: 'node dist/… (compiled)', baseline: 'tsx src/…', load };
    return [
      row({
        ...common,
        measure: `${app.name}: time to ready`,
        unit: 'ms',
        projectRounds: of('compiled', 'readyMs'),
        baselineRounds: of('tsx', 'readyMs'),
      }),
      row({
        ...common,
        measure: `${app.name}: idle RSS`,
        unit: 'MB',
        projectRounds: of('compiled', 'rssBytes').map((b) => b / 1e6),
        baselineRounds: of('tsx', 'rssBytes').map((b) => b / 1e6),
      }),
    ];
  }),
);
