// `pnpm --filter @ttc/db run migration:new -- --name add_foo [--empty] [--database-url URL]`
//
// Writes the next `prisma/migrations/<timestamp>_<name>/migration.sql`: what `prisma migrate dev --create-only` writes,
// computed by the same engine (Prisma's WebAssembly build), offline. It replays the existing migrations in a throwaway
// shadow database on the server of DATABASE_URL (created and dropped here), then diffs that against schema.prisma.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { MIGRATION_LOCK_TOML, paths, pendingSchemaChanges, repoRoot, runCli } from './schema-engine.js';

/** Prisma's own slug rule for migration names: words joined by `_`, at most 200 characters. */
function slug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 200);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      name: { type: 'string', short: 'n' },
      empty: { type: 'boolean', default: false },
      'database-url': { type: 'string' },
    },
  });
  const name = slug(values.name ?? '');
  if (!name) {
    console.error('Usage: migration:new --name <what_changed> [--empty] [--database-url postgresql://…]');
    return 64;
  }
  // The engine's createMigration cannot open a shadow database through a driver adapter on PostgreSQL; its diff
  // from the migrations directory can, and renders the script with the same renderer `migrate dev` uses.
  const { empty, script } = await pendingSchemaChanges(values['database-url']);
  if (empty && !values.empty) {
    console.log('schema.prisma matches the migrations already: nothing to write (use --empty for a blank one).');
    return 0;
  }
  const dirName = `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${name}`;
  const dir = join(paths.migrations, dirName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'migration.sql'), empty ? '-- This is an empty migration.\n' : script, 'utf8');
  // Same text Prisma writes, rewritten every time as Prisma does.
  writeFileSync(join(paths.migrations, 'migration_lock.toml'), MIGRATION_LOCK_TOML, 'utf8');
  console.log(`Wrote ${relative(repoRoot, join(dir, 'migration.sql'))}`);
  return 0;
}

runCli(main);
