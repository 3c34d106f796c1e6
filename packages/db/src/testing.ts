// Test helper (`@ttc/db/testing`): one fresh, migrated database per test file, on the server in TEST_DATABASE_URL.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPrismaClient } from './client.js';
import type { PrismaClient } from './generated/client.js';
import { DEFAULT_MIGRATIONS_DIR, migrateDatabase, readMigrations, withDatabase } from './migrate.js';

export interface TestDatabase {
  /** Connection URL of this test's own database. */
  url: string;
  /** A client for it (pool of 5). Disconnected by `drop()`. */
  prisma: PrismaClient;
  /** Disconnects `prisma` and drops the database. Safe to call twice. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** Server to use; defaults to TEST_DATABASE_URL (set by the Vitest global setup). */
  serverUrl?: string;
  /** Pool size of the returned client. Default 5. */
  poolSize?: number;
}

/** Serializes template creation across the parallel test processes (advisory locks are per database and server). */
const TEMPLATE_LOCK_KEY = 7_270_736_901;

/**
 * Creates a uniquely named database holding the current migrations, and a Prisma client for it.
 *
 * Fast because the migrations run once per migration set, not once per test file: the first caller builds a
 * template database `ttc_tmpl_<hash of the migrations>` (under an advisory lock, so parallel test files do not race),
 * and every test database is a `CREATE DATABASE … TEMPLATE` copy of it. Editing a migration changes the hash, so a
 * stale template is never used.
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    throw new Error('TEST_DATABASE_URL is not set: run the tests through Vitest (its global setup provides it)');
  }
  const template = await ensureTemplate(serverUrl);
  const name = `ttc_test_${randomBytes(8).toString('hex')}`;
  await withClient(serverUrl, (client) =>
    retryWhileInUse(() => client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`)),
  );
  const url = withDatabase(serverUrl, name);
  const prisma = createPrismaClient(url, { poolSize: options.poolSize ?? 5 });
  let dropped = false;
  return {
    url,
    prisma,
    async drop() {
      if (dropped) return;
      dropped = true;
      await prisma.$disconnect();
      // FORCE: a test that leaked a connection must not leave its database behind.
      await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** Name of the template for the migrations on disk now; builds it when missing. */
async function ensureTemplate(serverUrl: string): Promise<string> {
  const hash = createHash('sha256');
  for (const migration of readMigrations(DEFAULT_MIGRATIONS_DIR))
    hash.update(`${migration.name}\0${migration.checksum}\0`);
  const template = `ttc_tmpl_${hash.digest('hex').slice(0, 16)}`;
  const exists = async (client: pg.Client) =>
    Boolean((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])).rowCount);

  return withClient(serverUrl, async (client) => {
    if (await exists(client)) return template;
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      if (await exists(client)) return template;
      // Build under another name and rename when complete: a crash half-way never leaves a usable broken template.
      const building = `${template}_building`;
      await client.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${building}"`);
      await migrateDatabase(withDatabase(serverUrl, building), { createDatabase: false });
      await retryWhileInUse(() => client.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`));
      return template;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * PostgreSQL refuses to copy or rename a database while any session is connected to it (55006 object_in_use), and a
 * backend may outlive its client's `end()` by a few milliseconds.
 */
async function retryWhileInUse<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}
