#!/usr/bin/env node
// `pnpm test:faults`: bootstrap (install, generate) as `pnpm test` does, then the fault tests of packages/faults
// (the real processes against a private Redis and PostgreSQL they start themselves; see the README's Tests section).
import { execSync } from 'node:child_process';
import { bootstrap, root } from './bootstrap.mjs';

const pnpm = bootstrap();
try {
  execSync(`${pnpm} --filter @ttc/faults run faults`, { cwd: root, stdio: 'inherit' });
} catch (error) {
  process.exit(typeof error.status === 'number' && error.status !== 0 ? error.status : 1);
}
