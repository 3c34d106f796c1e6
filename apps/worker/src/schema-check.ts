import type { PrismaClient } from '@ttc/db';
import type { Logger } from 'pino';

const REQUIRED_TABLES = ['social_accounts', 'account_events', 'webhook_events', 'webhook_deliveries'] as const;

/** Tables the worker writes that do not exist in the connected database. */
export async function missingTables(prisma: PrismaClient): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ name: string; present: boolean }[]>`
    SELECT t.name, to_regclass(t.name) IS NOT NULL AS present
    FROM unnest(${[...REQUIRED_TABLES]}::text[]) AS t(name)`;
  return rows.filter((r) => !r.present).map((r) => r.name);
}

/**
 * Resolves once the tables exist, logging a clear error (with the fix) while they do not. Also gives up when
 * `stop()` turns true, so that a shutdown is not held up by an unmigrated database.
 */
export async function waitForSchema(
  prisma: PrismaClient,
  logger: Logger,
  stop: () => boolean,
  intervalMs = 5_000,
): Promise<void> {
  while (!stop()) {
    try {
      const missing = await missingTables(prisma);
      if (missing.length === 0) return;
      logger.error(
        { missing },
        'database tables are missing: run `pnpm db:migrate` (the worker waits and does not take jobs until then)',
      );
    } catch (err) {
      logger.error({ err }, 'cannot reach Postgres to check the schema; retrying');
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
