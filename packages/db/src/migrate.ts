import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * The advisory lock key Prisma Migrate takes on PostgreSQL. Using the same one makes this runner and a user's
 * `prisma migrate deploy` wait for each other instead of racing. Advisory locks are per database.
 */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

/** Where the migrations live in this repository (`prisma/migrations` at the root). */
export const DEFAULT_MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../prisma/migrations');

/** Prisma's own DDL for its bookkeeping table, column for column, so `prisma migrate deploy` reads our rows. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

export type MigrationErrorCode =
  | 'DB_MIGRATIONS_NOT_FOUND'
  | 'DB_MIGRATION_CHECKSUM_MISMATCH'
  | 'DB_MIGRATION_PREVIOUSLY_FAILED'
  | 'DB_MIGRATION_FAILED'
  | 'DB_NOT_EMPTY'
  | 'DB_MIGRATION_LOCK_TIMEOUT';

/** Why migrating stopped. Nothing was half-applied: each migration runs in its own transaction. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    readonly migrationName?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface MigrateOptions {
  /** Receives one line per step (which migrations ran, which were already applied). */
  log?: (message: string) => void;
  /** Defaults to {@link DEFAULT_MIGRATIONS_DIR}. */
  migrationsDir?: string;
  /** Create the database when it does not exist, as `prisma migrate deploy` does. Default true. */
  createDatabase?: boolean;
  /** How long to wait for another migrator (this runner or Prisma's) to finish. Default 5 minutes. */
  lockTimeoutMs?: number;
}

export interface MigrateResult {
  /** Migrations applied by this call, in order. Empty when the database was up to date. */
  applied: string[];
  /** Migrations found already applied. */
  alreadyApplied: string[];
}

/** One migration directory: its name and the exact text of its `migration.sql`. */
export interface MigrationFile {
  name: string;
  script: string;
  /** sha256 hex of the script's bytes, as Prisma stores it in `_prisma_migrations.checksum`. */
  checksum: string;
}

export function checksumOf(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/**
 * Prisma accepts a stored checksum computed from either the file as is or the file with CRLF turned into LF, so that
 * a Windows checkout does not look like an edited migration. Do the same.
 */
function checksumMatches(script: string, stored: string): boolean {
  return checksumOf(script) === stored || checksumOf(script.replaceAll('\r\n', '\n')) === stored;
}

/** The migrations in `dir`, ordered by directory name (their timestamp prefix), as Prisma orders them. */
export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): MigrationFile[] {
  if (!existsSync(dir)) {
    throw new MigrationError('DB_MIGRATIONS_NOT_FOUND', `No migrations directory at ${dir}`);
  }
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b))
    .map((name) => {
      const script = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, script, checksum: checksumOf(script) };
    });
}

interface AppliedRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Same server, another database: used to reach the maintenance database. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export function databaseNameOf(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
}

/**
 * Creates the database named in `databaseUrl` when it is missing (connecting to the server's `postgres` database to do
 * so). Safe when several processes try at once.
 */
export async function ensureDatabaseExists(databaseUrl: string): Promise<boolean> {
  const name = databaseNameOf(databaseUrl);
  const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return true;
    } catch (error) {
      // 42P04 duplicate_database, or 23505 when two CREATE DATABASE statements race on pg_database's unique index.
      const code = (error as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  } finally {
    await admin.end();
  }
}

async function connect(databaseUrl: string, createDatabase: boolean, log: (m: string) => void): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    return client;
  } catch (error) {
    // 3D000 invalid_catalog_name: the database does not exist yet.
    if (!createDatabase || (error as { code?: string }).code !== '3D000') throw error;
  }
  if (await ensureDatabaseExists(databaseUrl)) log(`Created database ${databaseNameOf(databaseUrl)}`);
  const retry = new pg.Client({ connectionString: databaseUrl });
  await retry.connect();
  return retry;
}

/**
 * Applies every pending migration of `prisma/migrations` to the database, in order, and records each in
 * `_prisma_migrations` exactly as Prisma Migrate does, so that a later `prisma migrate deploy` (by a user who has
 * Prisma's native engine) sees them as applied, and the other way round.
 *
 * - Runs under Prisma's advisory lock: concurrent callers (several replicas starting together) apply each migration
 *   once; the others wait, then find nothing to do.
 * - Each migration runs in one transaction together with its bookkeeping row: it is applied completely or not at all.
 *   (Migrations that cannot run in a transaction, such as `CREATE INDEX CONCURRENTLY`, are not supported.)
 * - Refuses, with {@link MigrationError} `DB_MIGRATION_CHECKSUM_MISMATCH`, when an applied migration's file was
 *   edited afterwards; refuses `DB_NOT_EMPTY` for a database that has tables but no migration history.
 * - Idempotent: a second call applies nothing.
 *
 * Works without Prisma's schema engine: only `pg` and the SQL files are needed.
 */
export async function migrateDatabase(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  const migrations = readMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const client = await connect(databaseUrl, options.createDatabase ?? true, log);
  try {
    await acquireLock(client, options.lockTimeoutMs ?? 300_000);
    try {
      return await applyPending(client, migrations, log);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

async function acquireLock(client: pg.Client, timeoutMs: number): Promise<void> {
  // lock_timeout bounds the wait for the advisory lock; it is reset at once so that it does not apply to migrations.
  await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') {
      throw new MigrationError(
        'DB_MIGRATION_LOCK_TIMEOUT',
        `Another migration run held the migration lock for more than ${timeoutMs} ms`,
        undefined,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await client.query('RESET lock_timeout');
  }
}

async function applyPending(
  client: pg.Client,
  migrations: MigrationFile[],
  log: (m: string) => void,
): Promise<MigrateResult> {
  const hasTable = await client.query<{ exists: boolean }>(
    "SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists",
  );
  if (!hasTable.rows[0]?.exists) {
    // Prisma refuses (P3005) to migrate a non-empty database that has no migration history: it would fail half-way
    // on existing objects, or worse, succeed on a database that belongs to something else.
    const tables = await client.query<{ name: string }>(
      'SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() LIMIT 5',
    );
    if (tables.rowCount) {
      throw new MigrationError(
        'DB_NOT_EMPTY',
        `The database is not empty (it has tables such as ${tables.rows.map((r) => r.name).join(', ')}) but has no ` +
          'migration history (_prisma_migrations). Migrate an empty database, or baseline this one with `prisma migrate resolve`.',
      );
    }
    await client.query(CREATE_MIGRATIONS_TABLE);
  }

  const rows = (
    await client.query<AppliedRow>(
      'SELECT id, checksum, migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at',
    )
  ).rows.filter((row) => row.rolled_back_at === null);

  const failed = rows.find((row) => row.finished_at === null);
  if (failed) {
    throw new MigrationError(
      'DB_MIGRATION_PREVIOUSLY_FAILED',
      `Migration ${failed.migration_name} started but never finished (it failed under \`prisma migrate deploy\`). ` +
        'Fix the database, then mark it with `prisma migrate resolve --applied` or `--rolled-back`.',
      failed.migration_name,
    );
  }

  const appliedByName = new Map(rows.map((row) => [row.migration_name, row]));
  for (const migration of migrations) {
    const row = appliedByName.get(migration.name);
    if (row && !checksumMatches(migration.script, row.checksum)) {
      throw new MigrationError(
        'DB_MIGRATION_CHECKSUM_MISMATCH',
        `Migration ${migration.name} was modified after it was applied (checksum ${migration.checksum} in the file, ` +
          `${row.checksum} in _prisma_migrations). Restore the applied version and put the change in a new migration.`,
        migration.name,
      );
    }
  }
  const known = new Set(migrations.map((m) => m.name));
  for (const row of rows) {
    if (!known.has(row.migration_name)) {
      // A newer release migrated this database: tolerate it so that rolling the code back still starts.
      log(`Migration ${row.migration_name} is applied in the database but not present in this release`);
    }
  }

  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const migration of migrations) {
    if (appliedByName.has(migration.name)) {
      result.alreadyApplied.push(migration.name);
      continue;
    }
    await applyOne(client, migration);
    log(`Applied migration ${migration.name}`);
    result.applied.push(migration.name);
  }
  if (result.applied.length === 0) log('No pending migrations');
  return result;
}

async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  const id = crypto.randomUUID();
  await client.query('BEGIN');
  try {
    // Same life cycle as Prisma's rows: inserted with started_at = now(), then one successful step and finished_at.
    await client.query('INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ($1, $2, $3)', [
      id,
      migration.checksum,
      migration.name,
    ]);
    // No parameters: the simple query protocol runs the whole multi-statement script.
    await client.query(migration.script);
    await client.query(
      'UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp() WHERE id = $1',
      [id],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    const pgError = error as { message?: string; code?: string; position?: string };
    throw new MigrationError(
      'DB_MIGRATION_FAILED',
      `Migration ${migration.name} failed and was rolled back: ${pgError.message ?? String(error)}` +
        (pgError.code ? ` (SQLSTATE ${pgError.code})` : ''),
      migration.name,
      { cause: error },
    );
  }
}
