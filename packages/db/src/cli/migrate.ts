// `pnpm db:migrate`: applies pending migrations to DATABASE_URL (the development default when unset), offline.
import { loadConfig } from '@ttc/config';
import { MigrationError, migrateDatabase } from '../migrate.js';

async function main(): Promise<void> {
  // Development secrets (unused here) go where every app keeps them: DEV_SECRETS_FILE when set, else the
  // workspace root's .dev/, whatever folder this runs from. A path of its own here made `pnpm dev` print a key file
  // that the apps, given DEV_SECRETS_FILE, did not use.
  const config = loadConfig({ service: 'cli' });
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
