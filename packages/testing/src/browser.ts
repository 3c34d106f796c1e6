import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright cannot download its own browser here. */
export const CHROMIUM_PATH = process.env.TEST_CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether browser tests may run. Outside CI a missing Chromium skips them (with a visible "skipped");
 * in CI (`CI=true`) it must be there, so a missing browser fails the run instead of passing silently.
 */
export const browserTestsEnabled = existsSync(CHROMIUM_PATH) || process.env.CI === 'true';

/** Launches headless Chromium with the flags this machine's closed network needs. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install chromium (or set TEST_CHROMIUM_PATH)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where tests save screenshots: `test-results/` at the repository root (git-ignored). */
export function screenshotPath(name: string): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const dir = join(root, 'test-results');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
