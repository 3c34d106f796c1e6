import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

export type RedisRole =
  /** Producers in a request path: fail fast instead of queueing commands while Redis is down. */
  | 'producer'
  /** BullMQ workers and QueueEvents: blocking commands, so retries must never give up (BullMQ requires it). */
  | 'worker'
  /** Plain commands (connect sessions, outcomes, locks). */
  | 'client';

/** A connection to one Redis server or to a Redis Cluster: every command this project uses works on both. */
export type RedisClient = Redis | Cluster;

/** `REDIS_URL` of a cluster: `redis+cluster://[user[:password]@]host:port[,host:port…]` (`rediss+cluster://`: TLS). */
export const REDIS_CLUSTER_URL = /^rediss?\+cluster:\/\//;

export interface RedisClusterAddress {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

/** Whether `REDIS_URL` names a Redis Cluster (see {@link REDIS_CLUSTER_URL}). */
export function isRedisClusterUrl(url: string): boolean {
  return REDIS_CLUSTER_URL.test(url);
}

/**
 * Parses a cluster URL: seed nodes (any one reachable master or replica is enough; ioredis discovers the rest) and the
 * credentials they share. WHATWG URLs cannot hold several hosts, hence this small parser.
 */
export function parseRedisClusterUrl(url: string): RedisClusterAddress {
  const match = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/.exec(url);
  if (!match) throw new Error('REDIS_URL: expected redis+cluster://[user[:password]@]host:port[,host:port…]');
  const [, scheme, auth, hosts] = match as unknown as [string, string, string | undefined, string];
  const nodes = hosts.split(',').map((hostPort) => {
    const { hostname, port } = new URL(`redis://${hostPort.trim()}`);
    return { host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) };
  });
  const address: RedisClusterAddress = { nodes, tls: scheme === 'rediss' };
  if (auth) {
    const colon = auth.indexOf(':');
    const user = decodeURIComponent(colon === -1 ? auth : auth.slice(0, colon));
    const password = colon === -1 ? '' : decodeURIComponent(auth.slice(colon + 1));
    // `redis+cluster://:secret@…` is a password without a user (the default user), as in redis:// URLs.
    if (password) {
      address.password = password;
      if (user) address.username = user;
    } else if (user) {
      address.password = user;
    }
  }
  return address;
}

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
 * Builds an ioredis connection with the settings of its role ({@link redisOptionsFor}): a `Redis` for a `redis://`
 * URL, a `Cluster` for a `redis+cluster://` one (the role's options then apply to every node's connection). The one
 * place connections are made; {@link duplicateRedisConnection} derives the extra ones.
 * The connection name shows up in `CLIENT LIST`, which helps operators see who is connected.
 */
export function createRedisConnection(
  url: string,
  role: RedisRole,
  name = 'ttc',
  /** Changes to the role's options (the worker's producer allows bulk adds more than 2 s). */
  overrides: Partial<RedisOptions> = {},
): RedisClient {
  const options = { ...redisOptionsFor(role, name), ...overrides };
  const redis = isRedisClusterUrl(url)
    ? new Cluster(parseRedisClusterUrl(url).nodes, clusterOptions(options, parseRedisClusterUrl(url)))
    : new Redis(url, options);
  if (role !== 'worker' && overrides.enableOfflineQueue === undefined) failFastOnceReady(redis);
  return redis;
}

/**
 * Queues commands only until the first connection is ready (so a process's first commands do not race its
 * connect), then refuses them at once while disconnected ("Stream isn't writeable…"): ioredis reads
 * `enableOfflineQueue` on every command (for a cluster, the cluster-wide option).
 */
function failFastOnceReady(redis: RedisClient): void {
  redis.once('ready', () => {
    redis.options.enableOfflineQueue = false;
  });
}

/**
 * Another connection like `connection` with some options changed (a blocking reader needs its own connection): for a
 * cluster the options go to every node's connection, as `Cluster.duplicate` expects them.
 */
export function duplicateRedisConnection(connection: RedisClient, overrides: RedisOptions): RedisClient {
  // A fail-fast original has its offline queue off once ready; the copy starts like the original did (queueing
  // until its own first connection is ready, then failing fast), unless the overrides say otherwise.
  const failsFast = connection.options.enableOfflineQueue === false && overrides.enableOfflineQueue === undefined;
  const { enableOfflineQueue = true, ...rest } = overrides;
  let copy: RedisClient;
  if (connection instanceof Cluster) {
    // The offline queue is a cluster-wide option; everything else is each node's.
    copy = connection.duplicate(undefined, {
      enableOfflineQueue,
      redisOptions: { ...connection.options.redisOptions, ...rest },
    });
  } else {
    copy = connection.duplicate({ ...rest, enableOfflineQueue });
  }
  if (failsFast) failFastOnceReady(copy);
  return copy;
}

/** The cluster form of one role's options: the client-wide ones at the top, the rest for each node. */
function clusterOptions(options: RedisOptions, address: RedisClusterAddress): ClusterOptions {
  const { enableAutoPipelining, enableOfflineQueue, lazyConnect, retryStrategy, ...perNode } = options;
  const cluster: ClusterOptions = {
    redisOptions: {
      ...perNode,
      ...(address.username ? { username: address.username } : {}),
      ...(address.password ? { password: address.password } : {}),
      ...(address.tls ? { tls: {} } : {}),
    },
    clusterRetryStrategy: retryStrategy ?? ((attempt) => Math.min(attempt * 200, 5_000)),
  };
  if (enableAutoPipelining !== undefined) cluster.enableAutoPipelining = enableAutoPipelining;
  if (enableOfflineQueue !== undefined) cluster.enableOfflineQueue = enableOfflineQueue;
  if (lazyConnect !== undefined) cluster.lazyConnect = lazyConnect;
  return cluster;
}
