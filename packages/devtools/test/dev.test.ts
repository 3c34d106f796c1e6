import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import { freePort } from '@ttc/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The output as a person reads it: without colours and carriage returns. */
const plain = (text: string) => stripVTControlCharacters(text).replace(/\r/g, '');

// `pnpm dev` as a developer runs it: in a terminal (util-linux `script` gives it one), stopped with Ctrl-C typed on
// that terminal. Real apps, a real database (a migrated copy of its own), Redis under a prefix of its own.
describe.skipIf(!hasScript)('pnpm dev in a terminal, stopped with Ctrl-C', () => {
  let db: TestDatabase;
  let dir: string;
  let prefix: string;
  let dev: ChildProcessWithoutNullStreams;
  let output = '';
  let exitCode: number | null = null;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'ttc-dev-'));
    prefix = `devtest${process.pid}${Date.now()}`;
    const [gateway, admin, worker, sandbox] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env: Record<string, string | undefined> = {
      ...process.env,
      NODE_ENV: undefined,
      TIKTOK_CLIENT_KEY: undefined,
      TIKTOK_CLIENT_SECRET: undefined,
      GATEWAY_API_KEYS: undefined,
      ADMIN_API_TOKENS: undefined,
      DATABASE_URL: db.url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: prefix,
      GATEWAY_PORT: String(gateway),
      ADMIN_PORT: String(admin),
      WORKER_METRICS_PORT: String(worker),
      SANDBOX_PORT: String(sandbox),
      DEV_SECRETS_FILE: join(dir, 'secrets.json'),
    };
    dev = spawn('script', ['-qfec', 'pnpm dev', '/dev/null'], { cwd: root, env, stdio: 'pipe' });
    dev.stdout.on('data', (chunk) => {
      output += chunk;
    });
    dev.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<void>((done) =>
      dev.once('close', (code) => {
        exitCode = code;
        done();
      }),
    );
    // Started: the banner is out.
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`no banner within 150 s:\n${plain(output)}`)), 150_000);
      const check = () => {
        if (plain(output).includes('Ctrl-C stops everything.')) {
          clearTimeout(timer);
          ready();
        } else if (exitCode !== null) {
          clearTimeout(timer);
          fail(new Error(`pnpm dev exited early:\n${plain(output)}`));
        } else setTimeout(check, 250);
      };
      check();
    });
    // Ctrl-C on the terminal.
    dev.stdin.write('\x03');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 90_000))]);
  }, 300_000);

  afterAll(async () => {
    if (dev && exitCode === null) dev.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
    const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('prints the secrets file the apps really use (DEV_SECRETS_FILE)', () => {
    const text = plain(output);
    expect(text).toContain(`(API key: ${join(dir, 'secrets.json')} → gatewayApiKey)`);
    expect(text).toContain(`(token: ${join(dir, 'secrets.json')} → adminApiToken)`);
    expect(text).not.toContain('.dev/secrets.json');
  });

  it("pretty-prints the apps' JSON log lines", () => {
    const lines = plain(output).split('\n');
    expect(lines.some((l) => /^gateway\s+│ \[\d\d:\d\d:\d\d\.\d{3}\] INFO: gateway started/.test(l))).toBe(true);
    expect(lines.some((l) => /^worker\s+│ \[\d\d:\d\d:\d\d\.\d{3}\] INFO: worker started/.test(l))).toBe(true);
    expect(lines.filter((l) => /│ \{"level":/.test(l))).toEqual([]);
  });

  it("stops with exit code 0 and each app's own shutdown lines, one app after the other, and no pnpm failure", () => {
    const text = plain(output);
    expect(text).not.toContain('ELIFECYCLE');
    expect(text).not.toMatch(/second signal|Force killing|did not stop/);
    expect(exitCode).toBe(0);
    const lines = text.split('\n');
    const at = (app: string, pattern: RegExp) => {
      const index = lines.findIndex((l) => l.startsWith(`${app} `) && pattern.test(l));
      expect(index, `${app}: ${pattern}`).toBeGreaterThan(-1);
      return index;
    };
    // Each app's steps in its own order, and each app done before the next one starts (last started, first stopped).
    const steps: [string, number][] = [
      ['admin', 3],
      ['gateway', 3],
      ['worker', 4],
    ];
    const stopping = lines.findIndex((l) =>
      l.startsWith('Stopping demo, then admin, then gateway, then worker, then sandbox'),
    );
    expect(stopping).toBeGreaterThan(-1);
    // The demo upstream app, started last, goes first.
    let previousEnd = at('demo', /SIGINT: closing/);
    expect(previousEnd).toBeGreaterThan(stopping);
    for (const [app, count] of steps) {
      let last = previousEnd;
      for (let step = 1; step <= count; step += 1) {
        const index = at(app, new RegExp(`INFO: shutdown ${step}/${count}: `));
        expect(index, `${app} step ${step}`).toBeGreaterThan(last);
        last = index;
      }
      const end = at(app, /INFO: shutdown complete/);
      expect(end).toBeGreaterThan(last);
      previousEnd = end;
    }
    expect(at('sandbox', /TikTok sandbox: shutdown 1\/1: closing the HTTP server/)).toBeGreaterThan(previousEnd);
    expect(at('sandbox', /TikTok sandbox: shutdown complete/)).toBeGreaterThan(previousEnd);
  });
});
