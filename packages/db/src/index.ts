export {
  type CreatePrismaClientOptions,
  createPrismaClient,
  PREPARED_MARKER,
  preparedStatementNames,
} from './client.js';
export {
  type AccountEvent,
  AccountEventType,
  AccountStatus,
  Platform,
  Prisma,
  PrismaClient,
  type SocialAccount,
} from './generated/client.js';
export {
  checksumOf,
  DEFAULT_MIGRATIONS_DIR,
  ensureDatabaseExists,
  type MigrateOptions,
  type MigrateResult,
  MigrationError,
  type MigrationErrorCode,
  migrateDatabase,
  PRISMA_MIGRATE_LOCK_KEY,
} from './migrate.js';
export { isDatabaseUnavailable } from './unavailable.js';
