import { randomUUID } from 'node:crypto';
import { type Job, QueueEvents, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccountConnectedPayload,
  createQueues,
  createRedisConnection,
  enqueueAccountConnected,
  jobIds,
  QueueNames,
  type Queues,
} from '../src/index.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-${randomUUID()}`;
const producer = createRedisConnection(redisUrl, 'producer', 'queue-test');
const workerConnection = createRedisConnection(redisUrl, 'worker', 'queue-test');
let queues: Queues;

const fakeCiphertext = 'v1.k1.aXZpdml2aXZpdml2.Y2lwaGVydGV4dHRhZ3RhZw';
const payload = (overrides: Partial<AccountConnectedPayload> = {}): AccountConnectedPayload => ({
  version: 1,
  connectionId: randomUUID(),
  connectSessionId: 'cs_1',
  userId: 'user-1',
  platform: 'TIKTOK',
  openId: 'open-1',
  unionId: null,
  displayName: 'Ava',
  username: null,
  avatarUrl: null,
  scopes: ['user.info.basic'],
  accessTokenCiphertext: fakeCiphertext,
  refreshTokenCiphertext: fakeCiphertext,
  accessTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  refreshTokenExpiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString(),
  obtainedAt: new Date().toISOString(),
  ...overrides,
});

beforeAll(() => {
  queues = createQueues({ connection: producer, prefix });
});

afterAll(async () => {
  for (const queue of queues.all()) await queue.obliterate({ force: true });
  await queues.close();
  producer.disconnect();
  workerConnection.disconnect();
});

describe('account.connected producer', () => {
  it('adds the same connection only once (deterministic job id)', async () => {
    const data = payload();
    const first = await enqueueAccountConnected(queues, data);
    const second = await enqueueAccountConnected(queues, data);
    expect(first.id).toBe(jobIds.accountConnected(data.connectionId));
    expect(second.id).toBe(first.id);
    expect(await queues.accountConnected.getJobCounts('waiting')).toEqual({ waiting: 1 });
    await queues.accountConnected.drain();
  });

  it('refuses a payload carrying a clear-text token', async () => {
    await expect(
      enqueueAccountConnected(queues, payload({ accessTokenCiphertext: 'act.clear-token-value' })),
    ).rejects.toThrow(/encrypted token/);
  });

  it('refuses a payload without a user id', async () => {
    await expect(enqueueAccountConnected(queues, payload({ userId: '' }))).rejects.toThrow();
  });

  it('removes a completed job, payload and all, from Redis', async () => {
    const events = new QueueEvents(QueueNames.accountConnected, { connection: workerConnection.duplicate(), prefix });
    await events.waitUntilReady();
    const worker = new Worker<AccountConnectedPayload>(
      QueueNames.accountConnected,
      async (job: Job) => job.data.openId,
      {
        connection: workerConnection,
        prefix,
      },
    );
    const data = payload();
    const job = await enqueueAccountConnected(queues, data);
    await job.waitUntilFinished(events, 10_000);
    expect(await queues.accountConnected.getJob(job.id!)).toBeUndefined();
    const keys = await producer.keys(`${prefix}:${QueueNames.accountConnected}:${job.id}*`);
    expect(keys).toEqual([]);
    await worker.close();
    await events.close();
  });
});
