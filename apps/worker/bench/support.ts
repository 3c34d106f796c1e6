// Helpers shared by the worker's benchmarks.
import { mkdirSync, writeFileSync } from 'node:fs';
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
