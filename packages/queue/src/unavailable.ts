/**
 * Whether an error says Redis is unavailable (down, restarting, unreachable, too slow), as opposed to a bug or a
 * refusal: the apps answer these 503 with `Retry-After` instead of 500. ioredis and BullMQ errors are plain `Error`s,
 * so they are told apart by name, code and message; causes are followed (a wrapped error counts too).
 */
export function isRedisUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (REDIS_UNAVAILABLE_NAMES.has(e.name)) return true;
    if (REDIS_UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(e.message))) return true;
  }
  return false;
}

/** The error (name) thrown by a bounded wait on Redis that ran out (see {@link RedisTimeoutError}). */
export class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError';
}

const REDIS_UNAVAILABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'RedisTimeoutError', 'ClusterAllFailedError']);
const REDIS_UNAVAILABLE_MESSAGES = [
  // ioredis: the connection ended or is being re-established.
  /^Connection is closed\.?$/,
  // ioredis with enableOfflineQueue off, while disconnected.
  /^Stream isn't writeable and enableOfflineQueue options is false/,
  // ioredis commandTimeout.
  /^Command timed out$/,
  /^Reached the max retries per request limit/,
  // Redis itself, while starting, failing over or out of memory under `noeviction`; Cluster without a quorum.
  /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY) /,
  /^OOM command not allowed/,
  /^READONLY You can't write against a read only replica/,
];

/**
 * `promise`, or a {@link RedisTimeoutError} after `ms`: for the few Redis waits that no command timeout covers
 * (BullMQ waits for its connection's first `ready` without a bound before its first command).
 */
export async function withRedisDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RedisTimeoutError(`${what}: Redis did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
