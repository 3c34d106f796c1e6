// Helpers shared by the worker's benchmarks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from '@ttc/queue';

/**
 * Deletes every key under `prefix` (SCAN + UNLINK): the benches share Redis with other people's tests, so they never
 * flush. Returns how many keys were deleted.
 */
export async function deletePrefix(redis: RedisClient, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5_000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Writes `results` to `bench/results/<name>-<at>.json` (git-ignored) and prints the path. */
export function writeResults(name: string, results: { at: string }): void {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${name}-${results.at.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

/** Median, min and max of a list of numbers. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[], digits = 2): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  const round = (n: number) => Number(n.toFixed(digits));
  return { median: round(median), min: round(sorted[0] ?? 0), max: round(sorted[sorted.length - 1] ?? 0) };
}

/** The 1-minute load average, for the `load` column ("start–end"). */
export const loadAverage = (): number => Number(loadavg()[0]?.toFixed(1) ?? 0);

/** One row of the shared result format (`/bench-format.md`): what `pnpm bench` puts in its Markdown table. */
export interface BenchRow {
  measure: string;
  project: string;
  baseline: string;
  unit: string;
  projectValue: Spread;
  baselineValue: Spread | null;
  ratio: Spread | null;
  goal: string | null;
  met: boolean | null;
  rounds: number;
  load: string;
}

/** Per-round ratios of project to baseline values (the rounds are paired: A B A B …). */
export function ratios(project: readonly number[], baseline: readonly number[]): Spread {
  return spread(project.map((p, i) => p / (baseline[i] || Number.NaN)));
}

/** Writes `bench/results/<name>.json` in the shared format and prints the path. */
export function writeBenchRows(name: string, rows: BenchRow[]): void {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${name}.json`;
  writeFileSync(file, `${JSON.stringify({ bench: name, at: new Date().toISOString(), rows }, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
