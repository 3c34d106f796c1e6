// `pnpm --filter @ttc/db run migrate:diff [--database-url URL]`
//
// Prints the SQL that would bring the migrations up to schema.prisma (what `prisma migrate diff --from-migrations
// prisma/migrations --to-schema prisma/schema.prisma --script` prints), offline. Exits 2 when they differ, so CI can
// use it as a check; `migration:new` writes the same SQL as the next migration.
import { parseArgs } from 'node:util';
import { pendingSchemaChanges, runCli } from './schema-engine.js';

runCli(async () => {
  const { values } = parseArgs({ options: { 'database-url': { type: 'string' } } });
  const { empty, script } = await pendingSchemaChanges(values['database-url']);
  if (empty) {
    console.error('prisma/migrations and prisma/schema.prisma agree.');
    return 0;
  }
  process.stdout.write(script);
  console.error(
    '\nschema.prisma has changes no migration contains: run `pnpm --filter @ttc/db run migration:new --name …`.',
  );
  return 2;
});
