import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** Starts an app's entry point with production settings missing; what it prints and how it exits. */
function start(entry: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    // Only what Node needs: every required production setting is missing.
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

describe('an app started with bad production settings', () => {
  it.each([
    ['gateway', 'apps/gateway/src/server.ts'],
    ['worker', 'apps/worker/src/main.ts'],
    ['admin', 'apps/admin/src/server.ts'],
  ])(
    '%s names every missing variable, prints no stack trace, and exits 1',
    async (_app, entry) => {
      const { code, stderr } = await start(entry);
      expect(code).toBe(1);
      expect(stderr).toContain('Missing or invalid environment variables');
      expect(stderr).toContain('DATABASE_URL');
      expect(stderr).toContain('TOKEN_ENCRYPTION_KEYS');
      expect(stderr).not.toMatch(/^\s+at /m);
    },
    30_000,
  );
});
