// Gateway API throughput: `pnpm bench gateway-api` (or `pnpm exec tsx apps/gateway/bench/gateway-api.bench.ts
// [seconds=3] [connections=32] [rounds=3]`).
//
// Three server processes per round, interleaved (bare, gateway, gateway without rate limiter), each driven over
// keep-alive HTTP by this process, on two routes one after the other:
//   POST /v1/connect-sessions          vs bare Fastify parsing the same JSON body + one Redis SET
//   GET /v1/accounts/:id/access-token  (1,000 accounts with fresh tokens, requests spread over them) vs bare Fastify
//                                      + one pg primary-key SELECT + one AES-256-GCM decrypt (@ttc/crypto)
// Goals: throughput ratio ≥ 0.5 for both. The servers' CPU per request is also reported (bare's over ours): on a
// shared 2-core machine the load generator competes with the server, which pushes throughput ratios towards 1; the
// CPU ratio is what the ratio would be if the servers were the bottleneck (each server's idle CPU, measured for 1 s
// before the load, is taken out). The rate limiter's share: the gateway's
// CPU per request with it minus without it, over with it (goal < 10 %).
// Production logging (one JSON line per request) is off in every server: this compares the work, not the log sink.
// Clients come from many addresses (X-Forwarded-For, TRUST_PROXY on) so that no request is refused by the limiter.
// BENCH_PROFILE=1 writes a CPU profile of each gateway process to /tmp/prof.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { loadNow, loadSpan, row, writeRows } from '../../../packages/devtools/bin/bench-rows.mjs';

const role = process.argv[2];
const self = fileURLToPath(import.meta.url);
const API_KEY = 'bench_api_key_0123456789abcdef';
const RETURN_TO = 'https://app.example.com/settings';
const ACCOUNTS = 1_000;
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const serverUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

type Kind = 'bare' | 'gateway' | 'gateway-nolimit';
type Route = 'sessions' | 'token';

async function serveBare(): Promise<number> {
  const { default: Fastify } = await import('fastify');
  const { Redis } = await import('ioredis');
  const { default: pg } = await import('pg');
  const { decryptToken, parseKeyring } = await import('@ttc/crypto');
  const keyring = parseKeyring(process.env.BENCH_KEYS ?? '');
  const redis = new Redis(redisUrl);
  const pool = new pg.Pool({ connectionString: process.env.BENCH_DB_URL, max: 10 });
  const prefix = process.env.BENCH_PREFIX;
  const app = Fastify({ logger: false });
  app.post('/v1/connect-sessions', async (request, reply) => {
    const { userId } = request.body as { userId: string };
    const id = `cs_${randomBytes(16).toString('base64url')}`;
    await redis.set(`${prefix}:bare:${id}`, userId, 'EX', 60);
    return reply.status(201).send({ id, url: `http://127.0.0.1/connect/${id}`, expiresAt: new Date().toISOString() });
  });
  app.get('/v1/accounts/:id/access-token', async (request) => {
    const { rows } = await pool.query(
      'SELECT user_id, open_id, access_token_ciphertext, access_token_expires_at, scopes FROM social_accounts WHERE id = $1',
      [(request.params as { id: string }).id],
    );
    const r = rows[0];
    const accessToken = decryptToken(keyring, r.access_token_ciphertext, `tiktok:${r.user_id}:${r.open_id}`);
    return { accessToken, expiresAt: r.access_token_expires_at.toISOString(), openId: r.open_id, scopes: r.scopes };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

async function serveGateway(rateLimit: boolean): Promise<number> {
  const { loadConfig } = await import('@ttc/config');
  const { parseKeyring } = await import('@ttc/crypto');
  const { createPrismaClient } = await import('@ttc/db');
  const { createQueues, createRedisConnection } = await import('@ttc/queue');
  const { createTikTokClient } = await import('@ttc/tiktok');
  const { buildGateway } = await import('../src/app.js');
  const config = loadConfig({
    service: 'gateway',
    devSecretsFile: `/tmp/ttc-bench-${process.pid}.json`,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      QUEUE_PREFIX: process.env.BENCH_PREFIX ?? 'bench',
      TIKTOK_CLIENT_KEY: 'bench_key',
      TIKTOK_CLIENT_SECRET: 'bench_secret',
      PUBLIC_GATEWAY_URL: 'http://127.0.0.1:3000',
      GATEWAY_API_KEYS: API_KEY,
      ALLOWED_RETURN_ORIGINS: 'https://app.example.com',
      TOKEN_ENCRYPTION_KEYS: process.env.BENCH_KEYS ?? '',
      COOKIE_SECRET: randomBytes(32).toString('base64url'),
      TRUST_PROXY: 'true',
    },
  });
  const redis = createRedisConnection(redisUrl, 'client', 'bench');
  const producer = createRedisConnection(redisUrl, 'producer', 'bench');
  const app = await buildGateway({
    config,
    prisma: createPrismaClient(process.env.BENCH_DB_URL ?? ''),
    redis,
    queues: createQueues({ connection: producer, prefix: config.queuePrefix }),
    tiktok: createTikTokClient({ clientKey: 'bench_key', clientSecret: 'bench_secret' }),
    keyring: parseKeyring(config.tokenEncryptionKeys),
    logger: false,
    rateLimit,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** Keep-alive load on one route for `seconds`; answers other than the expected status are counted and reported. */
function load(port: number, route: Route, ids: string[], seconds: number, connections: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let done = 0;
  let errors = 0;
  let n = 0;
  const until = Date.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const i = n++;
      // A different client address per request (in a /16): the limiter never refuses, and still counts each.
      const headers: Record<string, string> = {
        authorization: `Bearer ${API_KEY}`,
        'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      };
      const body =
        route === 'sessions' ? JSON.stringify({ userId: `bench-user-${i % 5000}`, returnTo: RETURN_TO }) : undefined;
      if (body) headers['content-type'] = 'application/json';
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: route === 'sessions' ? 'POST' : 'GET',
          path: route === 'sessions' ? '/v1/connect-sessions' : `/v1/accounts/${ids[i % ids.length]}/access-token`,
          agent,
          headers,
        },
        (res) => {
          if (res.statusCode === (route === 'sessions' ? 201 : 200)) done++;
          else errors++;
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const loop = async () => {
    while (Date.now() < until) await one();
  };
  return Promise.all(Array.from({ length: connections }, loop)).then(() => {
    agent.destroy();
    if (errors > 0) console.error(`  (${errors} unexpected answers on ${route})`);
    return done / seconds;
  });
}

function serverCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve((m as { cpu: number }).cpu));
    child.send('cpu');
  });
}

interface Measure {
  rps: number;
  cpuUs: number;
}

async function measure(
  kind: Kind,
  env: NodeJS.ProcessEnv,
  ids: string[],
  seconds: number,
  connections: number,
): Promise<Record<Route, Measure>> {
  const profile = process.env.BENCH_PROFILE === '1' && kind === 'gateway';
  const child = fork(self, [kind], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env,
    execArgv: [...process.execArgv, ...(profile ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [])],
  });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', resolve as never));
  // What the process burns with no request at all (timers, the connect-outcome reader's blocking reads, GC): taken
  // out of the CPU per request, or a slow round would charge it to the few requests it served.
  const idle0 = await serverCpu(child);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idlePerSec = (await serverCpu(child)) - idle0;
  const out = {} as Record<Route, Measure>;
  for (const route of ['sessions', 'token'] as const) {
    await load(port, route, ids, 1, connections); // warm-up
    const before = await serverCpu(child);
    const rps = await load(port, route, ids, seconds, connections);
    const used = (await serverCpu(child)) - before - idlePerSec * seconds;
    out[route] = { rps, cpuUs: Math.max(0, used) / (rps * seconds) };
  }
  child.kill(profile ? 'SIGINT' : 'SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  return out;
}

process.on('message', (m) => {
  if (m === 'cpu') {
    const u = process.cpuUsage();
    process.send?.({ cpu: u.user + u.system });
  }
});

if (role === 'bare' || role === 'gateway' || role === 'gateway-nolimit') {
  process.once('SIGINT', () => process.exit(0));
  const port = role === 'bare' ? await serveBare() : await serveGateway(role === 'gateway');
  process.send?.({ port });
} else {
  const startLoad = loadNow();
  const seconds = Number(process.argv[2] ?? 3);
  const connections = Number(process.argv[3] ?? 32);
  const rounds = Number(process.argv[4] ?? 3);
  const { createTestDatabase } = await import('@ttc/db/testing');
  const { encryptToken, generateKeyringEntry, parseKeyring } = await import('@ttc/crypto');
  const { createRedisConnection } = await import('@ttc/queue');
  const { deletePrefix } = await import('../../worker/bench/support.js');
  const db = await createTestDatabase({ serverUrl });
  const keys = generateKeyringEntry('bench');
  const keyring = parseKeyring(keys);
  const prefix = `bench-gwapi-${randomUUID().slice(0, 8)}`;
  const redis = createRedisConnection(redisUrl, 'client', 'bench');
  try {
    // 1,000 ACTIVE accounts whose access tokens are valid for two more hours: no request refreshes.
    const ids: string[] = [];
    const now = Date.now();
    for (let i = 0; i < ACCOUNTS; i++) {
      const id = randomUUID();
      ids.push(id);
      const userId = `bench-user-${i % 100}`;
      const openId = `bench-open-${i}`;
      const aad = `tiktok:${userId}:${openId}`;
      await db.prisma.$executeRaw`
        INSERT INTO social_accounts (id, user_id, platform, open_id, display_name, scopes, status,
          access_token_ciphertext, refresh_token_ciphertext, access_token_expires_at, refresh_token_expires_at,
          tokens_obtained_at, next_refresh_at, connected_at, created_at, updated_at)
        VALUES (${id}::uuid, ${userId}, 'TIKTOK', ${openId}, ${`Bench ${i}`}, ARRAY['user.info.basic'], 'ACTIVE',
          ${encryptToken(keyring, `act.${randomBytes(24).toString('base64url')}`, aad)},
          ${encryptToken(keyring, `rft.${randomBytes(24).toString('base64url')}`, aad)},
          ${new Date(now + 2 * 3600_000)}, ${new Date(now + 180 * 86400_000)}, ${new Date(now)},
          ${new Date(now + 2 * 3600_000 - 600_000)}, ${new Date(now)}, ${new Date(now)}, ${new Date(now)})`;
    }
    const env = { ...process.env, BENCH_DB_URL: db.url, BENCH_KEYS: keys, BENCH_PREFIX: prefix };
    const kinds: Kind[] = ['bare', 'gateway', 'gateway-nolimit'];
    const results: Record<Kind, Record<Route, Measure>[]> = { bare: [], gateway: [], 'gateway-nolimit': [] };
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) {
        results[kind].push(await measure(kind, env, ids, seconds, connections));
      }
      const fmt = (k: Kind, route: Route) =>
        `${results[k][r]?.[route].rps.toFixed(0)} req/s ${results[k][r]?.[route].cpuUs.toFixed(0)} µs`;
      console.log(
        `round ${r + 1}: sessions bare ${fmt('bare', 'sessions')} | gateway ${fmt('gateway', 'sessions')} | ` +
          `no limiter ${fmt('gateway-nolimit', 'sessions')}`,
      );
      console.log(
        `         token    bare ${fmt('bare', 'token')} | gateway ${fmt('gateway', 'token')} | ` +
          `no limiter ${fmt('gateway-nolimit', 'token')}`,
      );
    }
    const load = loadSpan(startLoad);
    const pick = (k: Kind, route: Route, f: keyof Measure) => results[k].map((m) => m[route][f]);
    const routes = {
      sessions: {
        name: 'POST /v1/connect-sessions',
        bare: 'bare Fastify + 1 Redis SET',
      },
      token: {
        name: `GET /v1/accounts/:id/access-token, ${ACCOUNTS.toLocaleString('en')} accounts, fresh tokens`,
        bare: 'bare Fastify + pg PK SELECT + AES-GCM decrypt',
      },
    } as const;
    const rows = (['sessions', 'token'] as const).flatMap((route) => [
      row({
        measure: `${routes[route].name}, throughput`,
        project: 'gateway',
        baseline: routes[route].bare,
        unit: 'req/s',
        projectRounds: pick('gateway', route, 'rps'),
        baselineRounds: pick('bare', route, 'rps'),
        goal: '≥ 0.5',
        meets: (x) => x >= 0.5,
        load,
      }),
      row({
        measure: `${routes[route].name}, server CPU per request (ratio = bare / ours)`,
        project: 'gateway',
        baseline: routes[route].bare,
        unit: 'µs',
        projectRounds: pick('gateway', route, 'cpuUs'),
        baselineRounds: pick('bare', route, 'cpuUs'),
        ratioOf: (p, b) => b / p,
        goal: '≥ 0.5',
        meets: (x) => x >= 0.5,
        load,
      }),
      row({
        measure: `${routes[route].name}, rate limiter's share of the route's CPU`,
        project: 'gateway',
        baseline: 'same gateway without the rate limiter',
        unit: 'µs',
        projectRounds: pick('gateway', route, 'cpuUs'),
        baselineRounds: pick('gateway-nolimit', route, 'cpuUs'),
        ratioOf: (p, b) => (p - b) / p,
        goal: '< 0.10',
        meets: (x) => x < 0.1,
        load,
      }),
    ]);
    console.log(`\nload average (1 min) ${load}`);
    writeRows(fileURLToPath(new URL('./results/', import.meta.url)), 'gateway-api', rows);
  } finally {
    await deletePrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await db.drop();
  }
  process.exit(0);
}
