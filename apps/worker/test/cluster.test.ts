// The queue and connect paths on Redis Cluster: a three-master cluster of this file's own (redis-server on free
// ports, joined with redis-cli --cluster create, torn down after), and the real entry points of the sandbox, worker
// and gateway pointed at it with REDIS_URL=redis+cluster://…. Connections go through the whole flow over HTTP
// (session, link, TikTok's forms, callback, outcome page), then the access-token API, erasure and the job lookups
// the reconcilers use: every multi-key command and script the product runs, on a cluster that refuses cross-slot ones.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import {
  createQueues,
  createRedisConnection,
  duplicateRedisConnection,
  jobIds,
  jobPresence,
  type Queues,
  type RedisClient,
} from '@ttc/queue';
import {
  connectOverHttp,
  freePort,
  type RedisCluster,
  type ServiceProcess,
  startRedisCluster,
  startServiceProcess,
  waitForHttp,
} from '@ttc/testing';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const secretsDir = mkdtempSync(join(tmpdir(), 'ttc-cluster-'));
const secretsFile = join(secretsDir, 'secrets.json');
/** QUEUE_PREFIX as an operator writes it; on a cluster the services hash-tag it. */
const QUEUE_PREFIX = 'ttc-cluster';
const KEY_PREFIX = `{${QUEUE_PREFIX}}`;

let cluster: RedisCluster;
let db: TestDatabase;
let redis: RedisClient;
let producer: RedisClient;
let queues: Queues;
let ports: { gateway: number; worker: number; sandbox: number };
const services: ServiceProcess[] = [];
let printed = false;

function start(name: string, appDir: string, entry: string): ServiceProcess {
  const service = startServiceProcess({
    name,
    command: tsx,
    args: [entry],
    cwd: join(root, 'apps', appDir),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      NODE_ENV: 'development',
      DATABASE_URL: db.url,
      REDIS_URL: cluster.url,
      QUEUE_PREFIX,
      GATEWAY_PORT: String(ports.gateway),
      WORKER_METRICS_PORT: String(ports.worker),
      SANDBOX_PORT: String(ports.sandbox),
      DEV_SECRETS_FILE: secretsFile,
      CONNECT_OUTCOME_WAIT_MS: '10000',
    },
  });
  services.push(service);
  return service;
}

const gatewayUrl = () => `http://localhost:${ports.gateway}`;
const apiKey = () => (JSON.parse(readFileSync(secretsFile, 'utf8')) as { gatewayApiKey: string }).gatewayApiKey;

/** Every key on every master of the cluster. */
async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  for (const node of (redis as Cluster).nodes('master')) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}

beforeAll(async () => {
  const [started, database, gateway, worker, sandbox] = await Promise.all([
    startRedisCluster({ masters: 3 }),
    createTestDatabase(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  cluster = started;
  db = database;
  ports = { gateway, worker, sandbox };
  redis = createRedisConnection(cluster.url, 'client', 'cluster-test');
  producer = createRedisConnection(cluster.url, 'producer', 'cluster-test');
  queues = createQueues({ connection: producer, prefix: KEY_PREFIX });
  const sandboxProcess = start('tiktok-sandbox', 'tiktok-sandbox', 'src/server.ts');
  const workerProcess = start('worker', 'worker', 'src/main.ts');
  const gatewayProcess = start('gateway', 'gateway', 'src/server.ts');
  await Promise.all([
    waitForHttp(`http://127.0.0.1:${ports.sandbox}/`, { service: sandboxProcess, timeoutMs: 45_000 }),
    waitForHttp(`http://127.0.0.1:${ports.worker}/healthz`, {
      service: workerProcess,
      timeoutMs: 45_000,
      accept: (r) => r.ok,
    }),
    waitForHttp(`http://127.0.0.1:${ports.gateway}/readyz`, {
      service: gatewayProcess,
      timeoutMs: 45_000,
      accept: (r) => r.ok,
    }),
  ]);
}, 90_000);

afterEach((context) => {
  if (context.task.result?.state !== 'fail' || printed) return;
  printed = true;
  for (const s of services) console.error(`\n===== ${s.name} output =====\n${s.output() || '(none)'}`);
});

afterAll(async () => {
  for (const service of services) service.kill();
  await Promise.all(services.map((s) => Promise.race([s.exited, new Promise((r) => setTimeout(r, 5_000))])));
  await queues?.close().catch(() => undefined);
  redis?.disconnect();
  producer?.disconnect();
  await cluster?.stop();
  await db?.drop();
  rmSync(secretsDir, { recursive: true, force: true });
}, 60_000);

describe('Redis Cluster (three masters)', () => {
  it('is a real cluster: the slots are spread over three masters, and cross-slot commands are refused', async () => {
    expect(redis).toBeInstanceOf(Cluster);
    expect((redis as Cluster).nodes('master')).toHaveLength(3);
    // Sent to one master as is (ioredis would refuse it before sending): the server itself refuses it.
    const [master] = (redis as Cluster).nodes('master');
    await expect(master?.eval("return redis.call('MGET', KEYS[1], KEYS[2])", 2, 'a', 'b')).rejects.toThrow(/CROSSSLOT/);
  });

  let accountIds: string[] = [];

  it('connects accounts through the whole flow: added, added, then reconnected', async () => {
    const options = {
      gatewayUrl: gatewayUrl(),
      apiKey: apiKey(),
      userId: 'cluster-user',
      returnTo: 'http://localhost:5173/',
    };
    const ava = await connectOverHttp({ ...options, openId: 'sbx-open-ava' });
    const ben = await connectOverHttp({ ...options, openId: 'sbx-open-ben' });
    const again = await connectOverHttp({ ...options, openId: 'sbx-open-ava' });
    expect([ava.outcome, ben.outcome, again.outcome]).toEqual(['added', 'added', 'reconnected']);
    expect(again.accountId).toBe(ava.accountId);
    accountIds = [ava.accountId ?? '', ben.accountId ?? ''];
    expect(await db.prisma.socialAccount.count({ where: { userId: 'cluster-user' } })).toBe(2);
  }, 60_000);

  it('keeps one delayed refresh job per account, which the job lookups of the reconcilers see', async () => {
    for (const id of accountIds) {
      const job = await queues.tokenRefresh.getJob(jobIds.tokenRefresh(id));
      expect(await job?.getState()).toBe('delayed');
    }
    expect(
      await jobPresence(redis, queues.tokenRefresh, [...accountIds, 'no-such-account'].map(jobIds.tokenRefresh)),
    ).toEqual(['present', 'present', 'missing']);
    expect(await queues.accountConnected.getJobCounts('active', 'waiting', 'failed')).toEqual({
      active: 0,
      waiting: 0,
      failed: 0,
    });
  });

  it('writes every key under the hash-tagged prefix, so that all of them share one slot', async () => {
    const keys = await allKeys();
    expect(keys.length).toBeGreaterThan(5);
    expect(keys.filter((key) => !key.startsWith(`${KEY_PREFIX}:`))).toEqual([]);
    // The kinds of key the flow wrote: queues and their event stream, the session and its tombstone, the user's
    // session index, the used state, rate-limit counters.
    for (const part of [
      ':account.connected:events',
      ':connect-session:',
      ':connect-session-expired:',
      ':user-connect-sessions:',
      ':oauth-state-used:',
      ':gateway-rate-limit:',
      ':token.refresh:delayed',
    ]) {
      expect(
        keys.some((key) => key.includes(part)),
        part,
      ).toBe(true);
    }
  });

  it('hands out access tokens (refresh lock, single flight) and erases the user with their connect sessions', async () => {
    const auth = { authorization: `Bearer ${apiKey()}` };
    const token = await fetch(`${gatewayUrl()}/v1/accounts/${accountIds[0]}/access-token?minValidity=86400`, {
      headers: auth,
    });
    expect(token.status).toBe(200);
    const erased = await fetch(`${gatewayUrl()}/v1/users/cluster-user`, { method: 'DELETE', headers: auth });
    expect(erased.status).toBe(200);
    expect(await erased.json()).toEqual({ userId: 'cluster-user', erasedAccounts: 2 });
    const left = await allKeys();
    expect(left.filter((key) => /:connect-session(-expired)?:|:user-connect-sessions:/.test(key))).toEqual([]);
  }, 30_000);

  it('duplicates a cluster connection as a cluster connection with the overrides on every node', async () => {
    const copy = duplicateRedisConnection(redis, { connectionName: 'cluster-test:copy', maxRetriesPerRequest: null });
    try {
      expect(copy).toBeInstanceOf(Cluster);
      expect((copy as Cluster).options.redisOptions?.maxRetriesPerRequest).toBeNull();
      expect(await copy.ping()).toBe('PONG');
    } finally {
      copy.disconnect();
    }
  });
});
