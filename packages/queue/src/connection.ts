import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole =
  /** Producers in a request path: fail fast instead of queueing commands while Redis is down. */
  | 'producer'
  /** BullMQ workers and QueueEvents: blocking commands, so retries must never give up (BullMQ requires it). */
  | 'worker'
  /** Plain commands (connect sessions, outcomes, locks). */
  | 'client';

/**
 * How long one Redis command of a `producer` or `client` connection may take, queueing included, before it fails with
 * "Command timed out" (answered 503 by the apps). Every such command is short (no blocking reads), so 2 s is far above
 * a healthy round trip and far below what a person waits for a page.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * The ioredis options of each role, in one place.
 *
 * - `worker` (BullMQ workers and QueueEvents, blocking reads): `maxRetriesPerRequest: null`, no command timeout, the
 *   offline queue on: BullMQ requires it, and a worker simply waits for Redis to come back.
 * - `producer` and `client` (everything on a request path, and the worker's locks and producers): fail fast while
 *   Redis is down, so a request is answered 503 at once instead of hanging: commands are not queued while
 *   disconnected (`enableOfflineQueue: false`, switched on only after the first `ready`, so that commands issued
 *   while the process starts wait for the first connection), retried at most once across a reconnect, and bounded
 *   by {@link REDIS_COMMAND_TIMEOUT_MS} whatever happens (a Redis that accepts the connection but does not answer).
 */
export function redisOptionsFor(role: RedisRole, name = 'ttc'): RedisOptions {
  const options: RedisOptions = {
    connectionName: `${name}:${role}`,
    lazyConnect: false,
    enableAutoPipelining: role !== 'worker',
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  };
  if (role === 'worker') {
    options.maxRetriesPerRequest = null;
    return options;
  }
  options.maxRetriesPerRequest = 1;
  options.connectTimeout = 5_000;
  options.commandTimeout = REDIS_COMMAND_TIMEOUT_MS;
  return options;
}

/**
 * Builds an ioredis connection with the settings BullMQ expects for each role ({@link redisOptionsFor}).
 * The connection name shows up in `CLIENT LIST`, which helps operators see who is connected.
 */
export function createRedisConnection(
  url: string,
  role: RedisRole,
  name = 'ttc',
  /** Changes to the role's options (the worker's producer allows bulk adds more than 2 s). */
  overrides: Partial<RedisOptions> = {},
): Redis {
  const redis = new Redis(url, { ...redisOptionsFor(role, name), ...overrides });
  if (role !== 'worker') failFastOnceReady(redis);
  return redis;
}

/**
 * Queues commands only until the first connection is ready (so a process's first commands do not race its
 * connect), then refuses them at once while disconnected ("Stream isn't writeable…"): ioredis reads
 * `enableOfflineQueue` on every command.
 */
function failFastOnceReady(redis: Redis): void {
  redis.once('ready', () => {
    redis.options.enableOfflineQueue = false;
  });
}
