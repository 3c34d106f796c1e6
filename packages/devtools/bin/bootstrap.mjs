#!/usr/bin/env node
// Brings a fresh clone to a runnable state: dependencies installed (with the pinned pnpm) and the Prisma client
// generated. Uses nothing but Node, because it runs before anything is installed. Cheap when all is up to date.
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PNPM_VERSION = '12.4.2';

/** The pnpm command to use: the pinned one on PATH, else through npx (the npm registry is all it needs). */
export function pnpmCommand() {
  try {
    const version = execFileSync('pnpm', ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (version === PNPM_VERSION) return 'pnpm';
  } catch {
    // not installed
  }
  return `npx --yes pnpm@${PNPM_VERSION}`;
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

export function bootstrap({ quiet = false } = {}) {
  const pnpm = pnpmCommand();
  const run = (cmd) => execSync(cmd, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  const installed = join(root, 'node_modules', '.modules.yaml');
  if (!existsSync(installed) || mtime(join(root, 'pnpm-lock.yaml')) > mtime(installed)) {
    console.log('[bootstrap] installing dependencies…');
    run(`${pnpm} install --frozen-lockfile`);
  }
  const generated = join(root, 'packages', 'db', 'src', 'generated');
  if (!existsSync(generated) || mtime(join(root, 'prisma', 'schema.prisma')) > mtime(generated)) {
    console.log('[bootstrap] generating the Prisma client…');
    run(`${pnpm} run db:generate`);
  }
  return pnpm;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  bootstrap();
}
