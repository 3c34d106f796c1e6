// Which Redis errors mean "unavailable" (answered 503 by the apps), on real connections: a server that is not there
// (commands bounded by the command timeout, then refused at once), a producer's add; and errors that do not.
import { createServer } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { createQueues, createRedisConnection, isRedisUnavailable, REDIS_COMMAND_TIMEOUT_MS } from '../src/index.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const opened: { disconnect(): void }[] = [];

afterAll(() => {
  for (const c of opened) c.disconnect();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

it('bounds a command to a Redis that is not there, and classifies the error as unavailable', async () => {
  const redis = createRedisConnection(`redis://127.0.0.1:${await freePort()}`, 'client', 'unavailable-test');
  redis.on('error', () => undefined);
  opened.push(redis);
  const started = performance.now();
  const error = await redis.get('x').catch((e: unknown) => e);
  const ms = performance.now() - started;
  expect(isRedisUnavailable(error)).toBe(true);
  expect(ms).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS + 2_000);
});

it('fails a producer’s add fast once its connection is lost, as unavailable', async () => {
  const producer = createRedisConnection(redisUrl, 'producer', 'unavailable-test');
  producer.on('error', () => undefined);
  opened.push(producer);
  const queues = createQueues({ connection: producer, prefix: `unavail-${process.pid}-${Date.now()}` });
  await queues.accountConnected.waitUntilReady();
  producer.disconnect(); // as when Redis goes away; no reconnect from here
  const error = await queues.accountConnected.add('x', {} as never).catch((e: unknown) => e);
  expect(isRedisUnavailable(error)).toBe(true);
  await queues.close().catch(() => undefined);
});

it('does not classify Redis refusing a command as unavailable', async () => {
  const redis = createRedisConnection(redisUrl, 'client', 'unavailable-test');
  opened.push(redis);
  const key = `unavail-${process.pid}-${Date.now()}`;
  await redis.set(key, 'text', 'PX', 10_000);
  const error = await redis.lpush(key, 'x').catch((e: unknown) => e);
  expect(String(error)).toMatch(/WRONGTYPE/);
  expect(isRedisUnavailable(error)).toBe(false);
  expect(isRedisUnavailable(new Error('boom'))).toBe(false);
  await redis.del(key);
});
