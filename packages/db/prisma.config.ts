// Prisma 7 reads this file from the directory the CLI runs in; every db script runs in packages/db.
// The schema and migrations stay at the repository root (prisma/), where operators look for them.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: '../../prisma/schema.prisma',
  migrations: { path: '../../prisma/migrations' },
  // Only the CLI's own migrate/db commands use this (users with the native engine, e.g. `prisma migrate deploy`).
  // Read leniently so that `prisma generate` works without a database.
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
