#!/usr/bin/env node
// `pnpm dev`: runs the whole system on one machine. Installs what is missing, migrates the database, then starts the
// TikTok sandbox (only when no TikTok credentials are set), the gateway, the worker and the admin app, with their
// output prefixed, and prints where to click. Ctrl-C stops everything in order.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { bootstrap, root } from './bootstrap.mjs';

const env = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'development', FORCE_COLOR: '1' };
const useSandbox = !env.TIKTOK_CLIENT_KEY;
const gatewayPort = Number(env.GATEWAY_PORT ?? 3000);
const adminPort = Number(env.ADMIN_PORT ?? 3001);
const sandboxPort = Number(env.SANDBOX_PORT ?? 3999);
const workerMetricsPort = Number(env.WORKER_METRICS_PORT ?? 3002);
const demoPort = Number(env.DEMO_PORT ?? 5173);
// The demo upstream app receives the webhooks (a secret for this run, given to every service and to the demo).
if (!env.WEBHOOK_URLS) {
  env.WEBHOOK_URLS = `http://localhost:${demoPort}/webhooks`;
  env.WEBHOOK_SECRETS = `whsec_${randomBytes(32).toString('base64')}`;
}

function reachable(url, defaultPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({
      host: hostname.replace(/^\[|\]$/g, ''),
      port: Number(port || defaultPort),
      timeout: 2000,
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: 'inherit', shell: true, ...opts });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

const colors = ['\x1b[35m', '\x1b[36m', '\x1b[33m', '\x1b[32m', '\x1b[34m'];
const children = [];
function start(name, pkgDir, script, color) {
  if (!existsSync(join(root, pkgDir, 'package.json'))) return;
  const child = spawn(pnpm, ['--silent', '--dir', pkgDir, 'run', script], {
    cwd: root,
    env,
    shell: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
  });
  const prefix = `${color}${name.padEnd(8)}\x1b[0m │ `;
  const pipe = (stream, out) => {
    let buffer = '';
    stream.on('data', (chunk) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) out.write(`${prefix}${line}\n`);
    });
  };
  pipe(child.stdout, process.stdout);
  pipe(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`${prefix}exited (${signal ?? code}); stopping the rest`);
    if (!stopping) stop(1);
  });
  children.push({ name, child });
}

async function waitFor(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping: gateway and admin first, then the worker, then the sandbox…');
  // Reverse start order: HTTP front doors stop taking work before the worker drains its jobs.
  for (const { child } of [...children].reverse()) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  }
  const exited = children.map(({ child }) =>
    child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)),
  );
  await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, 15_000))]);
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const pnpm = bootstrap();

const databaseUrl = env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/tiktok_connect';
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// A cluster URL (redis+cluster://host:port,host:port) names several seed nodes: the first one stands for it here.
const redisProbeUrl = redisUrl.replace(/^(rediss?)\+cluster:\/\/(?:[^@/]*@)?([^,/]+).*$/, '$1://$2');
const [pgUp, redisUp] = await Promise.all([reachable(databaseUrl, 5432), reachable(redisProbeUrl, 6379)]);
if (!pgUp || !redisUp) {
  console.error(
    `\nCannot reach ${[
      !pgUp && `PostgreSQL (${new URL(databaseUrl).host})`,
      !redisUp && `Redis (${new URL(redisProbeUrl).host})`,
    ]
      .filter(Boolean)
      .join(
        ' and ',
      )}.\nStart them with:  docker compose up -d postgres redis\nor point DATABASE_URL / REDIS_URL at yours.\n`,
  );
  process.exit(1);
}
env.DATABASE_URL = databaseUrl;
env.REDIS_URL = redisUrl;

console.log('[dev] migrating the database…');
await run(pnpm, ['run', 'db:migrate', '--', '--create-database']);

if (useSandbox) start('sandbox', 'apps/tiktok-sandbox', 'dev', colors[0]);
start('worker', 'apps/worker', 'dev', colors[1]);
start('gateway', 'apps/gateway', 'dev', colors[2]);
start('admin', 'apps/admin', 'dev', colors[3]);
start('demo', 'apps/demo-upstream', 'dev', colors[4]);

const gatewayUp = await waitFor(`http://127.0.0.1:${gatewayPort}/healthz`);
const adminUp = existsSync(join(root, 'apps/admin/src/server.ts'))
  ? await waitFor(`http://127.0.0.1:${adminPort}/healthz`, 30_000)
  : false;
const line = '─'.repeat(72);
console.log(`\n${line}
  TikTok multi-account connect is running${useSandbox ? ' against the bundled TikTok SANDBOX (no TIKTOK_CLIENT_KEY set)' : ''}

  Try it:          http://localhost:${gatewayPort}/dev        ${gatewayUp ? '' : '(gateway not answering yet)'}
  Demo app:        http://localhost:${demoPort}  (an upstream app: connect in a popup, accounts, webhooks)
  Gateway API:     http://localhost:${gatewayPort}  (API key in .dev/secrets.json → gatewayApiKey)
  Admin console:   http://localhost:${adminPort}/console  ${adminUp ? '' : '(admin not running)'}
  GraphQL:         http://localhost:${adminPort}/graphiql  (token in .dev/secrets.json → adminApiToken)
  Worker metrics:  http://localhost:${workerMetricsPort}/metrics${useSandbox ? `\n  TikTok sandbox:  http://localhost:${sandboxPort}  (pick any sandbox user to log in)` : ''}

  Ctrl-C stops everything.
${line}\n`);
