// `pnpm db:migrate` as a developer runs it: the root script, a child process, development settings.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `ttc_cli_${randomBytes(6).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'ttc-migrate-cli-'));

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await client.end();
});

describe('pnpm db:migrate', () => {
  it('keeps development secrets in DEV_SECRETS_FILE, the file every app is given, not a path of its own', async () => {
    const url = new URL(adminUrl);
    url.pathname = `/${dbName}`;
    const secrets = join(dir, 'secrets.json');
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        'pnpm',
        ['--silent', 'db:migrate'],
        {
          cwd: root,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '',
            DATABASE_URL: url.toString(),
            DEV_SECRETS_FILE: secrets,
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, out: stdout + stderr }),
      );
    });
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain('is up to date');
    expect(existsSync(secrets)).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(secrets, 'utf8')))).toContain('gatewayApiKey');
  });
});
