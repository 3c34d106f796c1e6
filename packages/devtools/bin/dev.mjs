#!/usr/bin/env node
// `pnpm dev`: runs the whole system on one machine. Installs what is missing, migrates the database, then starts the
// TikTok sandbox (only when no TikTok credentials are set), the gateway, the worker and the admin app, with their
// output prefixed and their JSON log lines pretty-printed, and prints where to click. Ctrl-C stops the apps one after
// another (last started first), each showing its own shutdown lines, then exits 0.
//
// Why the apps are not started with `pnpm run dev` and why Ctrl-C is read as a key: pnpm prints
// "[ELIFECYCLE] Command failed" whenever it receives SIGINT, whatever its script then does; and a terminal's Ctrl-C
// signals every process of the foreground group at once (pnpm, this script, each app and its tsx watcher, which
// relays it, so an app got it twice and took the second as "exit now"). So the terminal is put in raw mode (Ctrl-C
// arrives here as a key, nobody gets a signal), each app runs `tsx watch` directly in its own process group, and this
// script signals each watcher once, in order; tsx passes the signal to the app and exits with the app's code.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/** The one-off command running now (the migration), so that Ctrl-C during it stops it too. */
let running = null;
function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: 'inherit', shell: true, ...opts });
    running = child;
    child.on('exit', () => {
      running = null;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

const colors = ['\x1b[35m', '\x1b[36m', '\x1b[33m', '\x1b[32m', '\x1b[34m'];
const children = [];
/** JSON log lines (pino, Fastify) made readable; set once the dependencies are installed. */
let pretty = (line) => line;

/**
 * The command of the app's `script`: `tsx …` runs as `node <tsx cli> …` (no pnpm, no shell in between, see the top of
 * this file); anything else goes through `pnpm run`.
 */
function commandOf(pkgDir, script) {
  const { scripts = {} } = JSON.parse(readFileSync(join(root, pkgDir, 'package.json'), 'utf8'));
  const words = String(scripts[script] ?? '')
    .split(/\s+/)
    .filter(Boolean);
  if (words[0] === 'tsx') {
    const tsx = createRequire(join(root, 'package.json')).resolve('tsx/cli');
    return { cmd: process.execPath, args: [tsx, ...words.slice(1)], cwd: join(root, pkgDir), shell: false };
  }
  return { cmd: pnpm, args: ['--silent', 'run', script], cwd: join(root, pkgDir), shell: true };
}

function start(name, pkgDir, script, color) {
  if (!existsSync(join(root, pkgDir, 'package.json'))) return;
  const { cmd, args, cwd, shell } = commandOf(pkgDir, script);
  const child = spawn(cmd, args, {
    cwd,
    env,
    shell,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: signals reach it from this script only, once.
    detached: process.platform !== 'win32',
  });
  const prefix = `${color}${name.padEnd(8)}\x1b[0m │ `;
  const pipe = (stream, out) => {
    let buffer = '';
    const write = (line) => {
      for (const part of pretty(line).replace(/\n+$/, '').split('\n')) out.write(`${prefix}${part}\n`);
    };
    stream.on('data', (chunk) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) write(line);
    });
    stream.on('end', () => buffer && write(buffer));
  };
  pipe(child.stdout, process.stdout);
  pipe(child.stderr, process.stderr);
  // 'close': the app has exited and its last lines have been read.
  const closed = new Promise((resolve) => child.once('close', (code, signal) => resolve(signal ?? code)));
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`${prefix}exited (${signal ?? code}); stopping the rest`);
    if (!stopping) stop(1);
  });
  children.push({ name, child, closed, prefix });
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
/** Stops the apps one at a time, last started first: front doors stop taking work before the worker drains its jobs. */
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  running?.kill('SIGTERM');
  const order = [...children].reverse();
  console.log(`\nStopping ${order.map((c) => c.name).join(', then ')} (Ctrl-C again: kill them now)…`);
  for (const { child, closed, prefix } of order) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        // The watcher (tsx) relays it to the app, which runs its ordered shutdown and exits.
        child.kill('SIGINT');
      } catch {
        // already gone
      }
    }
    const timedOut = await Promise.race([
      closed.then(() => false),
      new Promise((r) => setTimeout(() => r(true), 20_000).unref()),
    ]);
    if (timedOut) {
      console.error(`${prefix}did not stop within 20 s: killed`);
      killGroup(child);
    }
  }
  restoreTerminal();
  process.exit(code);
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function forceQuit() {
  console.error('\nKilled.');
  for (const { child } of children) killGroup(child);
  restoreTerminal();
  process.exit(1);
}

// Ctrl-C from the terminal arrives as a key (raw mode, see the top of this file); SIGINT and SIGTERM from elsewhere
// (kill, an IDE's stop button) do the same.
function restoreTerminal() {
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
}
/** From when the install (synchronous, Ctrl-C works normally during it) is done. */
function readCtrlC() {
  if (!process.stdin.isTTY) return;
  process.stdin.setRawMode(true);
  process.stdin.on('data', (key) => {
    // Ctrl-C, or Ctrl-\ (which would have been SIGQUIT)
    if (key.includes(0x03) || key.includes(0x1c)) {
      if (stopping) forceQuit();
      else stop(0);
    }
  });
}
process.on('SIGINT', () => (stopping ? forceQuit() : stop(0)));
process.on('SIGTERM', () => stop(0));

const pnpm = bootstrap();
readCtrlC();
{
  // Installed by now. Only what passes through this script is pretty-printed: the apps still write JSON lines.
  const { prettyFactory } = await import('pino-pretty');
  const format = prettyFactory({
    colorize: Boolean(process.stdout.isTTY) || env.FORCE_COLOR === '1',
    ignore: 'pid,hostname,service',
    translateTime: 'SYS:HH:MM:ss.l',
    singleLine: true,
  });
  pretty = (line) => {
    if (!line.startsWith('{"level":')) return line;
    try {
      return format(JSON.parse(line));
    } catch {
      return line;
    }
  };
}

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
// The file the apps really read their generated keys from (config: DEV_SECRETS_FILE, else the workspace's .dev/).
const secretsFile = env.DEV_SECRETS_FILE || join(root, '.dev', 'secrets.json');
const where = (variable, key) => (env[variable] ? `one of ${variable}` : `${secretsFile} → ${key}`);
const line = '─'.repeat(72);
console.log(`\n${line}
  TikTok multi-account connect is running${useSandbox ? ' against the bundled TikTok SANDBOX (no TIKTOK_CLIENT_KEY set)' : ''}

  Try it:          http://localhost:${gatewayPort}/dev        ${gatewayUp ? '' : '(gateway not answering yet)'}
  Demo app:        http://localhost:${demoPort}  (an upstream app: connect in a popup, accounts, webhooks)
  Gateway API:     http://localhost:${gatewayPort}  (API key: ${where('GATEWAY_API_KEYS', 'gatewayApiKey')})
  Admin console:   http://localhost:${adminPort}/console  ${adminUp ? '' : '(admin not running)'}
  GraphQL:         http://localhost:${adminPort}/graphiql  (token: ${where('ADMIN_API_TOKENS', 'adminApiToken')})
  Worker metrics:  http://localhost:${workerMetricsPort}/metrics${useSandbox ? `\n  TikTok sandbox:  http://localhost:${sandboxPort}  (pick any sandbox user to log in)` : ''}

  Ctrl-C stops everything.
${line}\n`);
