import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_MIGRATIONS_DIR, withDatabase } from '../src/migrate.js';

export function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set (run through Vitest)');
  return url;
}

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values?: unknown[],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A database name nobody else uses; `create: false` leaves it for the code under test to create. */
export async function emptyDatabase(
  options: { create?: boolean } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ttc_test_${randomBytes(8).toString('hex')}`;
  if (options.create ?? true) await sql(serverUrl(), `CREATE DATABASE "${name}"`);
  return {
    url: withDatabase(serverUrl(), name),
    drop: async () => {
      await sql(serverUrl(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** A scratch migrations directory, optionally starting as a copy of the real one. */
export function scratchMigrations(options: { copyReal?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ttc-migrations-'));
  if (options.copyReal) cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return {
    dir,
    write(name: string, script: string) {
      mkdirSync(join(dir, name), { recursive: true });
      writeFileSync(join(dir, name, 'migration.sql'), script);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
