import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// One test run for the whole monorepo: every app and package with a test/ folder is a Vitest project named after its
// package, inheriting this file's options (timeouts, pool). Service URLs (Postgres, Redis) are resolved once in the
// global setup and handed to every worker through the environment.
const root = import.meta.dirname;
const projects = ['apps', 'packages'].flatMap((group) =>
  readdirSync(join(root, group), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, group, entry.name, 'test')))
    .map((entry) => {
      const dir = join(root, group, entry.name);
      const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
      return { extends: true as const, test: { name, root: dir, include: ['test/**/*.test.ts'] } };
    }),
);

export default defineConfig({
  test: {
    projects,
    globalSetup: [resolve(root, 'packages/testing/src/global-setup.ts')],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', resolve(root, 'packages/testing/src/summary-reporter.ts')],
  },
});
