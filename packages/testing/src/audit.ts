import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { screenshotPath } from './browser.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** One axe-core rule a page breaks, with the elements (CSS selectors) that break it. */
export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** The two sizes every page is checked and photographed at: a laptop and a phone. */
export const AUDIT_VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
] as const;

/**
 * Runs axe-core (WCAG 2.x A/AA and best-practice rules) on the page as it is now and returns the violations of
 * impact serious or critical. axe is evaluated through the DevTools protocol, so the page's Content-Security-Policy
 * (no inline script) does not stop it; the page needs JavaScript enabled. `preload: false`: axe would otherwise fetch
 * the page's cross-origin stylesheets itself (for one rule), requests the page never makes.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  // A string, not a function: this package is compiled without the DOM's types.
  return page.evaluate<AxeViolation[]>(`axe.run({ resultTypes: ['violations'], preload: false }).then((result) =>
    result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))`);
}

/** How many CSS pixels the page is wider than the viewport (0: no horizontal scrolling). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate<number>(
    'Math.max(0, (document.scrollingElement ?? document.documentElement).scrollWidth - window.innerWidth)',
  );
}

/**
 * Checks the page at 1280×800 and 390×844: axe-core's serious and critical violations and the horizontal overflow at
 * each size, and a full-page screenshot of each in `test-results/<name>-<width>.png`. Leaves the page at 1280×800.
 */
export async function auditPage(
  page: Page,
  name: string,
): Promise<{ violations: (AxeViolation & { width: number })[]; overflow: Record<number, number> }> {
  const violations: (AxeViolation & { width: number })[] = [];
  const overflow: Record<number, number> = {};
  for (const viewport of [...AUDIT_VIEWPORTS].reverse()) {
    await page.setViewportSize(viewport);
    // A frame for layout to follow the new size before measuring.
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(null)))');
    for (const v of await seriousAxeViolations(page)) violations.push({ ...v, width: viewport.width });
    overflow[viewport.width] = await horizontalOverflow(page);
    await page.screenshot({ path: screenshotPath(`${name}-${viewport.width}.png`), fullPage: true });
  }
  return { violations, overflow };
}
