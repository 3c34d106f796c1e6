import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole =
  /** Producers in a request path: fail fast instead of queueing commands while Redis is down. */
  | 'producer'
  /** BullMQ workers and QueueEvents: blocking commands, so retries must never give up (BullMQ requires it). */
  | 'worker'
  /** Plain commands (connect sessions, outcomes, locks). */
  | 'client';

/**
 * Builds an ioredis connection with the settings BullMQ expects for each role.
 * The connection name shows up in `CLIENT LIST`, which helps operators see who is connected.
 */
export function createRedisConnection(url: string, role: RedisRole, name = 'ttc'): Redis {
  const options: RedisOptions = {
    connectionName: `${name}:${role}`,
    lazyConnect: false,
    enableAutoPipelining: role !== 'worker',
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  };
  if (role === 'worker') {
    options.maxRetriesPerRequest = null;
  } else if (role === 'producer') {
    options.maxRetriesPerRequest = 1;
    options.enableOfflineQueue = true;
    options.connectTimeout = 5_000;
  } else {
    options.maxRetriesPerRequest = 2;
    options.connectTimeout = 5_000;
  }
  return new Redis(url, options);
}
