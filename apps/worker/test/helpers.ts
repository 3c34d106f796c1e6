import type { RedisClient } from '@ttc/queue';

/** Every key under `prefix` with its value(s) flattened to text, whatever the Redis type. */
export async function dumpKeys(redis: RedisClient, prefix: string): Promise<Map<string, string>> {
  const dump = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let value: unknown;
      if (type === 'string') value = await redis.get(key);
      else if (type === 'hash') value = await redis.hgetall(key);
      else if (type === 'list') value = await redis.lrange(key, 0, -1);
      else if (type === 'set') value = await redis.smembers(key);
      else if (type === 'zset') value = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else if (type === 'stream') value = await redis.xrange(key, '-', '+');
      else value = `(${type})`;
      dump.set(key, JSON.stringify(value));
    }
  } while (cursor !== '0');
  return dump;
}

/** Every 12-character window of `secret`: finding any of them in Redis means a piece of it leaked. */
export function fragmentsOf(secret: string, size = 12): string[] {
  const out: string[] = [];
  for (let i = 0; i + size <= secret.length; i++) out.push(secret.slice(i, i + size));
  return out;
}

export async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  const keys = [...(await dumpKeys(redis, prefix)).keys()];
  if (keys.length > 0) await redis.del(...keys);
}
