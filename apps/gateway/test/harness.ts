// Test harness: the real gateway on a real Postgres database, real Redis (own key prefix), the real TikTok
// sandbox, and an in-process BullMQ worker running the real `account.connected` processor.
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccounts } from '@ttc/accounts';
import { type AppConfig, loadConfig, tiktokClientOptions } from '@ttc/config';
import { generateKeyringEntry, type Keyring, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import type { RedisClient } from '@ttc/queue';
import { createQueues, createRedisConnection, QueueNames, type Queues } from '@ttc/queue';
import { freePort } from '@ttc/testing';
import { createTikTokClient } from '@ttc/tiktok';
import { type SandboxHandle, startSandbox } from '@ttc/tiktok-sandbox';
import { Worker } from 'bullmq';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildGateway, type GatewayDeps, gatewayLoggerOptions } from '../src/app.js';

export const API_KEY = `gw_test_${'k'.repeat(32)}`;
export const RETURN_TO = 'https://app.example.com/settings/tiktok';
export const PUBLIC_URL = 'http://gateway.test';

export interface HarnessOptions {
  env?: Record<string, string>;
  /** When given, the gateway logs with its production logger options and every line lands here. */
  logLines?: string[];
  /**
   * Listen on a free port as `http://localhost:<port>` (for a real browser) instead of only answering `inject()`.
   * TikTok's sandbox stays on 127.0.0.1: two sites, so cookies are as cross-site as with TikTok.
   */
  listen?: boolean;
  /** Passed to `buildGateway`: sees every route as it registers. */
  onRoute?: GatewayDeps['onRoute'];
  /** A Redis of the test's own (fault tests stop it); default TEST_REDIS_URL. */
  redisUrl?: string;
  /** A PostgreSQL server of the test's own (fault tests stop it); default TEST_DATABASE_URL. */
  databaseServerUrl?: string;
}

export interface Harness {
  app: FastifyInstance;
  config: AppConfig;
  db: TestDatabase;
  redis: RedisClient;
  queues: Queues;
  worker: Worker;
  sandbox: SandboxHandle;
  keyring: Keyring;
  prefix: string;
  /** The gateway's public URL: `http://gateway.test`, or its real address when started with `listen`. */
  publicUrl: string;
  /** Moves the gateway's clock. */
  advance(ms: number): void;
  /** A new, empty browser. */
  browser(): Browser;
  /** Creates a connect session through the API. */
  createSession(
    userId?: string,
    extra?: { reconnectAccountId?: string },
  ): Promise<{ id: string; url: string; expiresAt: string; userId: string }>;
  /** Creates a session and opens its link in a new browser: returns the browser, now holding the session. */
  openSession(
    userId?: string,
    extra?: { reconnectAccountId?: string },
  ): Promise<{ browser: Browser; userId: string; url: string; id: string }>;
  close(): Promise<void>;
}

interface StoredCookie {
  value: string;
  path: string;
}

/** A minimal cookie-keeping client over `app.inject()`, enough to play the user's browser. */
export class Browser {
  readonly cookies = new Map<string, StoredCookie>();

  constructor(private readonly app: FastifyInstance) {}

  cookieHeader(url: string): string {
    const path = new URL(url, PUBLIC_URL).pathname;
    return [...this.cookies.entries()]
      .filter(([, c]) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  async request(options: InjectOptions & { url: string }): Promise<LightMyRequestResponse> {
    const cookie = this.cookieHeader(options.url);
    const res = await this.app.inject({
      ...options,
      headers: { accept: 'text/html', ...(cookie ? { cookie } : {}), ...(options.headers ?? {}) },
    });
    for (const c of res.cookies as { name: string; value: string; path?: string; maxAge?: number }[]) {
      if (c.maxAge === 0 || c.value === '') this.cookies.delete(c.name);
      else this.cookies.set(c.name, { value: c.value, path: c.path ?? '/' });
    }
    return res;
  }

  get(url: string, headers: Record<string, string> = {}) {
    return this.request({ method: 'GET', url, headers });
  }

  post(url: string, form: Record<string, string>) {
    return this.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
  }

  /** Follows local redirects (not TikTok's) and returns the last response. */
  async follow(res: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    let current = res;
    for (let i = 0; i < 5 && current.statusCode >= 300 && current.statusCode < 400; i++) {
      const location = String(current.headers.location);
      if (!location.startsWith('/')) break;
      current = await this.get(location);
    }
    return current;
  }
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const redisUrl = options.redisUrl ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `gwt-${randomBytes(6).toString('hex')}`;
  const [db, sandbox, port] = await Promise.all([
    createTestDatabase(options.databaseServerUrl ? { serverUrl: options.databaseServerUrl } : {}),
    startSandbox({ port: 0 }),
    options.listen ? freePort() : Promise.resolve(0),
  ]);
  const publicUrl = options.listen ? `http://localhost:${port}` : PUBLIC_URL;
  const tokenKeys = generateKeyringEntry('test1');
  const config = loadConfig({
    service: 'gateway',
    devSecretsFile: join(tmpdir(), `ttc-gateway-test-${prefix}.json`),
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      QUEUE_PREFIX: prefix,
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      TIKTOK_CLIENT_KEY: sandbox.clientKey,
      TIKTOK_CLIENT_SECRET: sandbox.clientSecret,
      TIKTOK_AUTH_URL: sandbox.authUrl,
      TIKTOK_API_URL: sandbox.url,
      TIKTOK_SCOPES: 'user.info.basic,user.info.profile,video.list',
      TIKTOK_TIMEOUT_MS: '1500',
      PUBLIC_GATEWAY_URL: publicUrl,
      GATEWAY_API_KEYS: `other_key_${'x'.repeat(30)},${API_KEY}`,
      ALLOWED_RETURN_ORIGINS: 'https://app.example.com,http://localhost:5173',
      TOKEN_ENCRYPTION_KEYS: tokenKeys,
      COOKIE_SECRET: randomBytes(32).toString('base64url'),
      CONNECT_OUTCOME_WAIT_MS: '3000',
      ...options.env,
    },
  });
  const keyring = parseKeyring(config.tokenEncryptionKeys);
  const redis = createRedisConnection(redisUrl, 'client', 'gateway-test');
  const producer = createRedisConnection(redisUrl, 'producer', 'gateway-test');
  const workerConnection = createRedisConnection(redisUrl, 'worker', 'gateway-test');
  const queues = createQueues({ connection: producer, prefix });
  // The worker's side of a connection, in process: the account service stores it and records the outcome.
  const accounts = createAccounts({ prisma: db.prisma, keyring, redis, queues, queuePrefix: prefix });
  const worker = new Worker(QueueNames.accountConnected, (job) => accounts.applyConnection(job.data), {
    connection: workerConnection,
    prefix,
  });
  const tiktok = createTikTokClient(tiktokClientOptions(config.tiktok));
  let offset = 0;
  const app = await buildGateway({
    config,
    prisma: db.prisma,
    redis,
    queues,
    tiktok,
    keyring,
    logger: options.logLines
      ? {
          ...(gatewayLoggerOptions({ ...config, logLevel: 'info' }) as object),
          stream: { write: (line: string) => options.logLines?.push(line) },
        }
      : false,
    now: () => Date.now() + offset,
    ...(options.onRoute ? { onRoute: options.onRoute } : {}),
  });
  await app.ready();
  if (options.listen) await app.listen({ port, host: '127.0.0.1' });

  const harness: Harness = {
    app,
    publicUrl,
    config,
    db,
    redis,
    queues,
    worker,
    sandbox,
    keyring,
    prefix,
    advance(ms) {
      offset += ms;
    },
    browser: () => new Browser(app),
    async createSession(userId = `user-${randomUUID()}`, extra = {}) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/connect-sessions',
        headers: { authorization: `Bearer ${API_KEY}` },
        payload: { userId, returnTo: RETURN_TO, ...extra },
      });
      if (res.statusCode !== 201) throw new Error(`createSession: ${res.statusCode} ${res.body}`);
      return { ...(res.json() as { id: string; url: string; expiresAt: string }), userId };
    },
    async openSession(userId, extra) {
      const session = await harness.createSession(userId, extra);
      const browser = harness.browser();
      const res = await browser.get(new URL(session.url).pathname);
      if (res.statusCode !== 303) throw new Error(`openSession: ${res.statusCode} ${res.body}`);
      return { browser, userId: session.userId, url: session.url, id: session.id };
    },
    async close() {
      await app.close();
      await worker.close();
      for (const queue of queues.all()) await queue.obliterate({ force: true }).catch(() => undefined);
      await queues.close();
      const keys = await scanKeys(redis, `${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await Promise.allSettled([redis.quit(), producer.quit(), workerConnection.quit()]);
      await Promise.allSettled([sandbox.close(), db.drop()]);
    },
  };
  return harness;
}

export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** Every value stored under a key, whatever its type, as one string to search in. */
export async function dumpKey(redis: RedisClient, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, 0, -1));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}

/** Parses a 302 to TikTok's authorize page. */
export function authorizeParams(res: LightMyRequestResponse): URLSearchParams {
  return new URL(String(res.headers.location)).searchParams;
}

/**
 * Plays a whole connection: start, TikTok's consent (minted by the sandbox with the real PKCE challenge), callback.
 * Returns the callback response (not followed).
 */
export async function runConnection(
  h: Harness,
  browser: Browser,
  openId: string,
  scopes: string[] = ['user.info.basic', 'user.info.profile', 'video.list'],
): Promise<LightMyRequestResponse> {
  const start = await browser.get('/connect/tiktok');
  if (start.statusCode !== 302) throw new Error(`start: ${start.statusCode} ${start.body}`);
  const params = authorizeParams(start);
  const minted = await h.sandbox.control.mintCode({
    openId,
    redirectUri: params.get('redirect_uri') ?? '',
    scopes,
    codeChallenge: params.get('code_challenge') ?? '',
  });
  const query = new URLSearchParams({ code: minted.code, scopes: minted.scopes, state: params.get('state') ?? '' });
  return browser.get(`/auth/tiktok/callback?${query}`);
}

/** Start → minted consent → callback, then follows to the connect page (as a browser follows its meta refresh). */
export async function connectAndShow(h: Harness, browser: Browser, openId: string, scopes?: string[]) {
  const callback = await runConnection(h, browser, openId, scopes);
  if (callback.statusCode !== 303) throw new Error(`callback: ${callback.statusCode} ${callback.body}`);
  const location = String(callback.headers.location);
  let page = await browser.get(location);
  // Like a browser following the page's meta refresh while the worker is still busy (slow CI machines).
  for (let i = 0; i < 10 && page.body.includes('http-equiv="refresh"'); i++) {
    page = await browser.get(location);
  }
  return { callback, page, t: text(page.body) };
}

/** Calls a `/v1` route with the gateway API key. */
export function api(h: Harness, method: 'GET' | 'DELETE' | 'POST', url: string, payload?: object) {
  return h.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${API_KEY}` },
    ...(payload === undefined ? {} : { payload }),
  });
}

/** Text content of a page without tags, for assertions on what a person reads. */
export function text(body: string): string {
  return body
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** A second gateway on the harness's database whose Redis does not answer; closing it closes its clients. */
export async function gatewayWithDeadRedis(h: Harness): Promise<FastifyInstance> {
  const config = loadConfig({
    service: 'gateway',
    devSecretsFile: join(tmpdir(), `ttc-gw-dead-redis-${randomBytes(4).toString('hex')}.json`),
    env: {
      NODE_ENV: 'test',
      QUEUE_PREFIX: `gwt-dead-redis-${randomBytes(3).toString('hex')}`,
      TOKEN_ENCRYPTION_KEYS: h.config.tokenEncryptionKeys,
    },
  });
  const deadRedis = createRedisConnection('redis://127.0.0.1:1', 'client', 'dead');
  deadRedis.on('error', () => undefined);
  const producer = createRedisConnection('redis://127.0.0.1:1', 'producer', 'dead');
  producer.on('error', () => undefined);
  const queues = createQueues({ connection: producer, prefix: config.queuePrefix });
  for (const queue of queues.all()) queue.on('error', () => undefined);
  const app = await buildGateway({
    config,
    prisma: h.db.prisma,
    redis: deadRedis,
    queues,
    tiktok: createTikTokClient({ clientKey: 'k', clientSecret: 's' }),
    keyring: parseKeyring(config.tokenEncryptionKeys),
    logger: false,
  });
  app.addHook('onClose', async () => {
    await queues.close().catch(() => undefined);
    deadRedis.disconnect();
    producer.disconnect();
  });
  return app;
}
