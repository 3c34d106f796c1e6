import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisConnection, isRedisClusterUrl, parseRedisClusterUrl } from '../src/index.js';

describe('REDIS_URL for a cluster', () => {
  it('reads seed nodes, credentials and TLS from redis+cluster:// and rediss+cluster://', () => {
    expect(parseRedisClusterUrl('redis+cluster://127.0.0.1:7000,10.0.0.2:7001,[::1]:7002/')).toEqual({
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    expect(parseRedisClusterUrl('rediss+cluster://app:p%40ss@redis.internal')).toEqual({
      nodes: [{ host: 'redis.internal', port: 6379 }],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    expect(parseRedisClusterUrl('redis+cluster://:secret@h:1')).toMatchObject({ password: 'secret' });
    expect(parseRedisClusterUrl('redis+cluster://:secret@h:1')).not.toHaveProperty('username');
    expect(() => parseRedisClusterUrl('redis+cluster://')).toThrow(/REDIS_URL/);
    expect(isRedisClusterUrl('redis://h:1')).toBe(false);
    expect(isRedisClusterUrl('rediss+cluster://h:1')).toBe(true);
  });

  it('makes a Cluster for a cluster URL and a Redis otherwise, with the role settings on every node', () => {
    const cluster = createRedisConnection('redis+cluster://127.0.0.1:1', 'worker', 'unit');
    const single = createRedisConnection('redis://127.0.0.1:1', 'producer', 'unit');
    try {
      expect(cluster).toBeInstanceOf(Cluster);
      expect((cluster as Cluster).options.redisOptions).toMatchObject({
        maxRetriesPerRequest: null,
        connectionName: 'unit:worker',
      });
      expect(single).toBeInstanceOf(Redis);
      expect((single as Redis).options).toMatchObject({ maxRetriesPerRequest: 1, connectionName: 'unit:producer' });
    } finally {
      cluster.disconnect();
      single.disconnect();
    }
  });
});
