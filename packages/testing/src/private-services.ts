// Private Redis and PostgreSQL servers for tests that stop and restart them: never the shared ones, which other
// test files (and other people) use at the same time.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './processes.js';

const run = promisify(execFile);

/** A server of our own: `stop()` and `start()` again on the same port and data; `destroy()` removes everything. */
export interface PrivateServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * `redis-server` on a free port, no persistence; `persistent`: append-only with an fsync per write and `noeviction`,
 * as production runs it, so a stop and start keeps every key (the fault tests' restart; FLUSHALL is their data loss).
 */
export async function startPrivateRedis(options: { persistent?: boolean } = {}): Promise<PrivateServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ttc-redis-'));
  // The option exists from Redis 7 on (older versions refuse to start with it, and allow DEBUG anyway).
  const { stdout: version } = await run('redis-server', ['--version']);
  const major = Number(/v=(\d+)/.exec(version)?.[1] ?? 0);
  const debug = major >= 7 ? ['--enable-debug-command', 'local'] : [];
  const start = async () => {
    await run('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      ...(options.persistent
        ? ['--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction']
        : ['--appendonly', 'no']),
      '--dir',
      dir,
      // DEBUG SLEEP makes it stop answering without closing connections (a hung server).
      ...debug,
      '--daemonize',
      'yes',
      '--pidfile',
      join(dir, 'redis.pid'),
    ]);
    for (let i = 0; i < 100; i++) {
      try {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
        if (stdout.trim() === 'PONG') return;
      } catch {
        // Not up yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`private redis on ${port} did not start`);
  };
  const stop = async () => {
    await run('redis-cli', ['-p', String(port), 'shutdown', 'nosave']).catch(() => undefined);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Where the machine's PostgreSQL binaries are (`initdb` is often not on PATH). */
async function pgBin(name: string): Promise<string> {
  for (const candidate of [name, ...[17, 16, 15, 14].map((v) => `/usr/lib/postgresql/${v}/bin/${name}`)]) {
    try {
      await run(candidate, ['--version']);
      return candidate;
    } catch {
      // Next.
    }
  }
  throw new Error(`${name} not found: install PostgreSQL's server binaries`);
}

/**
 * A PostgreSQL cluster of our own (`initdb` into a temporary directory, trust authentication, on a free port). As
 * root, the server runs as the `postgres` user (PostgreSQL refuses to run as root). `url` is its `postgres` database.
 */
export async function startPrivatePostgres(options: { maxConnections?: number } = {}): Promise<PrivateServer> {
  const [initdb, pgCtl] = await Promise.all([pgBin('initdb'), pgBin('pg_ctl')]);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ttc-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const as = async (command: string, args: string[]) => {
    if (!asRoot) return run(command, args);
    return run('runuser', ['-u', 'postgres', '--', command, ...args]);
  };
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  chmodSync(dir, 0o700);
  await as(initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const start = async () => {
    await as(pgCtl, [
      '-D',
      data,
      '-w',
      '-t',
      '30',
      '-l',
      join(dir, 'log'),
      '-o',
      // A test server: durability off (fsync, synchronous commit, full-page writes), speed on.
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=${options.maxConnections ?? 200}`,
      'start',
    ]);
  };
  const stop = async () => {
    await as(pgCtl, ['-D', data, '-w', '-m', 'fast', 'stop']).catch(() => undefined);
  };
  await start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
