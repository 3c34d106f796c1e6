import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { screenshotPath } from './browser.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core inside the page and returns the violations of impact serious or critical, each with the selectors of
 * its nodes. Its source is evaluated through the DevTools protocol (no network, and the page's CSP, which allows no
 * inline script, does not apply to it).
 */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run();
    return result.violations as { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

/** The two viewports every page is checked and photographed at: a laptop and a phone. */
export const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/**
 * Screenshots of the page at 1280×800 and 390×844 (`test-results/<name>-desktop.png`, `-phone.png`), each viewport
 * also checked for horizontal scrolling. Returns the widths that overflowed (none is the answer wanted). The viewport
 * is restored afterwards.
 */
export async function screenshotsAtBothSizes(page: Page, name: string): Promise<string[]> {
  const before = page.viewportSize();
  const overflowing: string[] = [];
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    const scrolls = await page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth');
    if (scrolls) overflowing.push(`${viewport.width}px`);
    await page.screenshot({ path: screenshotPath(`${name}-${viewport.name}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
  return overflowing;
}
