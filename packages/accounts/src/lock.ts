import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@ttc/queue';

// Compare-and-delete / compare-and-extend: only the holder's token may release or extend the lock, so a holder whose
// lock expired (and was taken by another process) cannot release the new holder's lock.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/** A held Redis lock. */
export interface RedisLock {
  key: string;
  token: string;
  /** Releases the lock if this holder still has it; never throws (an unreleased lock just expires). */
  release(): Promise<void>;
  /** Pushes the expiry to `ttlMs` from now; false when the lock was lost. */
  extend(ttlMs: number): Promise<boolean>;
}

/** `SET key token NX PX ttl`: the lock, or null when someone else holds it. */
export async function tryLock(redis: RedisClient, key: string, ttlMs: number): Promise<RedisLock | null> {
  const token = randomUUID();
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return null;
  return {
    key,
    token,
    release: async () => {
      await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    },
    extend: async (ms) => (await redis.eval(EXTEND, 1, key, token, String(ms))) === 1,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
