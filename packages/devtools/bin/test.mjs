#!/usr/bin/env node
// `npm test` / `pnpm test`: bootstrap (install, generate), then lint, typecheck and every test. Runs through the
// pinned pnpm even when only Node and npm are installed (bootstrap falls back to npx for it).
import { execSync } from 'node:child_process';
import { bootstrap, root } from './bootstrap.mjs';

const pnpm = bootstrap();
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };
for (const step of ['run lint', 'run typecheck', 'exec vitest run']) {
  try {
    execSync(`${pnpm} ${step}`, { cwd: root, env, stdio: 'inherit' });
  } catch (error) {
    process.exit(typeof error.status === 'number' && error.status !== 0 ? error.status : 1);
  }
}
