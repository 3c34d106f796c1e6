import { defineConfig } from 'vitest/config';

// One test run for the whole monorepo: every app and package is a Vitest project named after its package.
// Service URLs (Postgres, Redis) are resolved once in the global setup and handed to every worker via env.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    globalSetup: ['./packages/testing/src/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
