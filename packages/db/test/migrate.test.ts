import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checksumOf, MigrationError, migrateDatabase, readMigrations } from '../src/migrate.js';
import { noFilter, openSchemaEngine, readMigrationsList } from '../tools/schema-engine.js';
import { emptyDatabase, scratchMigrations, sql } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshDatabase(options: { create?: boolean } = {}) {
  const db = await emptyDatabase(options);
  cleanups.push(db.drop);
  return db.url;
}

function scratch(options: { copyReal?: boolean } = {}) {
  const dir = scratchMigrations(options);
  cleanups.push(dir.remove);
  return dir;
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const rowsOf = (url: string) => sql<MigrationRow>(url, 'SELECT * FROM _prisma_migrations ORDER BY started_at');

async function expectMigrationError(promise: Promise<unknown>, code: string): Promise<MigrationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MigrationError);
  expect((error as MigrationError).code).toBe(code);
  return error as MigrationError;
}

describe('migrateDatabase', () => {
  it('creates a missing database, applies every migration, and does nothing the second time', async () => {
    const url = await freshDatabase({ create: false });
    const names = readMigrations().map((m) => m.name);

    const first = await migrateDatabase(url);
    expect(first).toEqual({ applied: names, alreadyApplied: [] });
    const second = await migrateDatabase(url);
    expect(second).toEqual({ applied: [], alreadyApplied: names });
    expect((await rowsOf(url)).map((r) => r.migration_name)).toEqual(names);
  });

  it('applies each migration once when two runners start together', async () => {
    const url = await freshDatabase({ create: false });
    const migrations = scratch();
    // Slow enough that, without the lock, the second runner would start the same migration and fail on the table.
    migrations.write('20200101000000_slow', 'SELECT pg_sleep(0.4);\nCREATE TABLE slow_one (id INT PRIMARY KEY);\n');
    migrations.write('20200102000000_next', 'CREATE TABLE next_one (id INT PRIMARY KEY);\n');

    const results = await Promise.all([
      migrateDatabase(url, { migrationsDir: migrations.dir }),
      migrateDatabase(url, { migrationsDir: migrations.dir }),
    ]);
    const applied = results.flatMap((r) => r.applied).sort();
    expect(applied).toEqual(['20200101000000_slow', '20200102000000_next']);
    // One runner did everything, the other found it done.
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 2]);
    const rows = await rowsOf(url);
    expect(rows.map((r) => r.migration_name)).toEqual(['20200101000000_slow', '20200102000000_next']);
  });

  it('refuses to run when an applied migration was edited, and changes nothing', async () => {
    const url = await freshDatabase();
    const migrations = scratch({ copyReal: true });
    await migrateDatabase(url, { migrationsDir: migrations.dir });
    const [init] = readMigrations(migrations.dir);
    migrations.write(init!.name, `${init!.script}\n-- an afterthought\n`);
    migrations.write('29990101000000_later', 'CREATE TABLE later_one (id INT);\n');

    const error = await expectMigrationError(
      migrateDatabase(url, { migrationsDir: migrations.dir }),
      'DB_MIGRATION_CHECKSUM_MISMATCH',
    );
    expect(error.migrationName).toBe(init!.name);
    expect(error.message).toContain(init!.name);
    const later = await sql(url, "SELECT to_regclass('later_one') IS NOT NULL AS present");
    expect(later[0]?.present).toBe(false);
  });

  it('accepts a migration whose line endings were turned into CRLF by a Windows checkout', async () => {
    const url = await freshDatabase();
    const migrations = scratch({ copyReal: true });
    await migrateDatabase(url, { migrationsDir: migrations.dir });
    const all = readMigrations(migrations.dir);
    const [init] = all;
    migrations.write(init!.name, init!.script.replaceAll('\n', '\r\n'));
    await expect(migrateDatabase(url, { migrationsDir: migrations.dir })).resolves.toEqual({
      applied: [],
      alreadyApplied: all.map((m) => m.name),
    });
  });

  it('rolls a failing migration back completely and records nothing, so it can be fixed and rerun', async () => {
    const url = await freshDatabase();
    const migrations = scratch();
    migrations.write('20200101000000_ok', 'CREATE TABLE first_one (id INT);\n');
    migrations.write('20200102000000_broken', 'CREATE TABLE half_done (id INT);\nSELECT * FROM no_such_table;\n');

    const error = await expectMigrationError(
      migrateDatabase(url, { migrationsDir: migrations.dir }),
      'DB_MIGRATION_FAILED',
    );
    expect(error.migrationName).toBe('20200102000000_broken');
    expect(error.message).toContain('no_such_table');
    expect((await rowsOf(url)).map((r) => r.migration_name)).toEqual(['20200101000000_ok']);
    expect((await sql(url, "SELECT to_regclass('half_done') IS NULL AS gone"))[0]?.gone).toBe(true);

    migrations.write('20200102000000_broken', 'CREATE TABLE half_done (id INT);\n');
    const rerun = await migrateDatabase(url, { migrationsDir: migrations.dir });
    expect(rerun.applied).toEqual(['20200102000000_broken']);
  });

  it('refuses a database that has tables but no migration history', async () => {
    const url = await freshDatabase();
    await sql(url, 'CREATE TABLE somebody_elses (id INT)');
    const error = await expectMigrationError(migrateDatabase(url), 'DB_NOT_EMPTY');
    expect(error.message).toContain('somebody_elses');
  });

  it('refuses to continue after a migration Prisma left unfinished', async () => {
    const url = await freshDatabase();
    await migrateDatabase(url);
    await sql(url, "INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ($1, $2, 'x_failed')", [
      crypto.randomUUID(),
      checksumOf('x'),
    ]);
    await expectMigrationError(migrateDatabase(url), 'DB_MIGRATION_PREVIOUSLY_FAILED');
  });

  it('times out clearly when another migrator holds the lock', async () => {
    const url = await freshDatabase();
    const pg = await import('pg');
    const holder = new pg.default.Client({ connectionString: url });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('SELECT pg_advisory_lock(72707369)');
    await expectMigrationError(migrateDatabase(url, { lockTimeoutMs: 200 }), 'DB_MIGRATION_LOCK_TIMEOUT');
  });
});

describe('compatibility with Prisma Migrate', () => {
  it('writes _prisma_migrations rows identical in shape to the ones Prisma writes', async () => {
    const ours = await freshDatabase();
    const prismas = await freshDatabase();
    await migrateDatabase(ours);
    const engine = await openSchemaEngine(prismas);
    try {
      await engine.applyMigrations({ migrationsList: readMigrationsList(), filters: noFilter });
    } finally {
      await engine.stop();
    }

    const describeTable = (url: string) =>
      sql(
        url,
        `SELECT column_name, data_type, is_nullable, column_default, character_maximum_length
           FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      );
    expect(await describeTable(ours)).toEqual(await describeTable(prismas));

    const [ourRow] = await rowsOf(ours);
    const [prismaRow] = await rowsOf(prismas);
    const shape = (row: MigrationRow) => ({
      checksum: row.checksum,
      migration_name: row.migration_name,
      logs: row.logs,
      rolled_back_at: row.rolled_back_at,
      applied_steps_count: row.applied_steps_count,
    });
    expect(shape(ourRow!)).toEqual(shape(prismaRow!));
    const [init] = readMigrations();
    expect(ourRow!.checksum).toBe(
      checksumOf(readFileSync(join(readMigrationsList().baseDir, init!.name, 'migration.sql'), 'utf8')),
    );
    expect(ourRow!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ourRow!.finished_at!.getTime()).toBeGreaterThanOrEqual(ourRow!.started_at.getTime());
  });

  it('Prisma sees a database we migrated as up to date, and we see one Prisma migrated as up to date', async () => {
    const ours = await freshDatabase();
    await migrateDatabase(ours);
    const engine = await openSchemaEngine(ours);
    try {
      const diagnosis = await engine.diagnoseMigrationHistory({
        migrationsList: readMigrationsList(),
        optInToShadowDatabase: false,
        filters: noFilter,
      });
      expect(diagnosis).toEqual({
        editedMigrationNames: [],
        failedMigrationNames: [],
        hasMigrationsTable: true,
        history: null,
      });
      // What `prisma migrate deploy` would do next: nothing.
      expect(await engine.applyMigrations({ migrationsList: readMigrationsList(), filters: noFilter })).toEqual({
        appliedMigrationNames: [],
      });
    } finally {
      await engine.stop();
    }

    const prismas = await freshDatabase();
    const engine2 = await openSchemaEngine(prismas);
    try {
      await engine2.applyMigrations({ migrationsList: readMigrationsList(), filters: noFilter });
    } finally {
      await engine2.stop();
    }
    expect((await migrateDatabase(prismas)).applied).toEqual([]);
  });

  it('Prisma flags the same edited migration we refuse', async () => {
    const url = await freshDatabase();
    const migrations = scratch({ copyReal: true });
    await migrateDatabase(url, { migrationsDir: migrations.dir });
    const [init] = readMigrations(migrations.dir);
    writeFileSync(join(migrations.dir, init!.name, 'migration.sql'), `${init!.script}\n-- edited\n`);
    const engine = await openSchemaEngine(url);
    try {
      const diagnosis = await engine.diagnoseMigrationHistory({
        migrationsList: readMigrationsList(migrations.dir),
        optInToShadowDatabase: false,
        filters: noFilter,
      });
      expect(diagnosis.editedMigrationNames).toEqual([init!.name]);
    } finally {
      await engine.stop();
    }
  });
});
