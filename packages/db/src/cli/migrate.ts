// `pnpm db:migrate`: applies pending migrations to DATABASE_URL (the development default when unset), offline.
import { join } from 'node:path';
import { loadConfig } from '@ttc/config';
import { DEFAULT_MIGRATIONS_DIR, MigrationError, migrateDatabase } from '../migrate.js';

async function main(): Promise<void> {
  // Development secrets (unused here) would otherwise be written under packages/db: keep them with the others.
  const config = loadConfig({
    service: 'cli',
    devSecretsFile: join(DEFAULT_MIGRATIONS_DIR, '../../.dev/secrets.json'),
  });
  const started = performance.now();
  const result = await migrateDatabase(config.databaseUrl, { log: (line) => console.log(line) });
  const ms = Math.round(performance.now() - started);
  console.log(
    `Database ${new URL(config.databaseUrl).pathname.slice(1)} is up to date ` +
      `(${result.applied.length} applied, ${result.alreadyApplied.length} already applied, ${ms} ms)`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof MigrationError) {
    console.error(`${error.code}: ${error.message}`);
  } else {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  }
  process.exitCode = 1;
});
