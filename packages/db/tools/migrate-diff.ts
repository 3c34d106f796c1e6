// `pnpm --filter @ttc/db run migrate:diff [--database-url URL]`
//
// Prints the SQL that would bring the migrations up to schema.prisma (what `prisma migrate diff --from-migrations
// prisma/migrations --to-schema prisma/schema.prisma --script` prints), offline. Exits 2 when they differ, so CI can
// use it as a check; `migration:new` writes the same SQL as the next migration.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@ttc/config';
import { ensureDatabaseExists } from '../src/migrate.js';
import { diffScript, openSchemaEngine, readMigrationsList, repoRoot, schemaFiles } from './schema-engine.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'database-url': { type: 'string' } } });
  const databaseUrl =
    values['database-url'] ??
    loadConfig({ service: 'cli', devSecretsFile: join(repoRoot, '.dev/secrets.json') }).databaseUrl;
  await ensureDatabaseExists(databaseUrl);
  const engine = await openSchemaEngine(databaseUrl);
  try {
    const { empty, script } = await diffScript(
      engine,
      { tag: 'migrations', ...readMigrationsList() },
      { tag: 'schemaDatamodel', files: schemaFiles() },
    );
    if (empty) {
      console.error('prisma/migrations and prisma/schema.prisma agree.');
      return 0;
    }
    process.stdout.write(script);
    console.error(
      '\nschema.prisma has changes no migration contains: run `pnpm --filter @ttc/db run migration:new --name …`.',
    );
    return 2;
  } finally {
    await engine.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
