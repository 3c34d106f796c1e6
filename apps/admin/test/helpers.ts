import { randomBytes, randomUUID } from 'node:crypto';
import { parseKeyring } from '@ttc/crypto';
import type { PrismaClient } from '@ttc/db';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection, type Queues, type RedisClient } from '@ttc/queue';
import type { FastifyInstance } from 'fastify';
import { type AdminDeps, buildAdmin } from '../src/app.js';

export const ADMIN_TOKEN = `admin-${randomBytes(18).toString('base64url')}`;
export const COOKIE_SECRET = randomBytes(32).toString('base64url');

export interface TestAdmin {
  app: FastifyInstance;
  db: TestDatabase;
  redis: RedisClient;
  queues: Queues;
  prefix: string;
  close(): Promise<void>;
}

/** An admin app on its own database and queue prefix. `prisma` lets a test wrap the client (to count queries). */
export async function startTestAdmin(
  options: {
    db?: TestDatabase;
    wrapPrisma?: (p: PrismaClient) => PrismaClient;
    redisUrl?: string;
    /** `WEBHOOK_URLS`: the admin's disconnects then record webhooks. */
    webhookUrls?: string[];
    /** `REQUEST_TIMEOUT_MS`. */
    requestTimeoutMs?: number;
    /** `TRUST_PROXY`. */
    trustProxy?: boolean;
    /** `COOKIE_SECRET` as a list (rotation); default the one `COOKIE_SECRET` above. */
    cookieSecrets?: string[];
  } & Pick<Partial<AdminDeps>, 'limits' | 'loginAttemptsPerMinute' | 'graphiql'> = {},
): Promise<TestAdmin> {
  const db = options.db ?? (await createTestDatabase());
  const redisUrl = options.redisUrl ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `test-${randomUUID()}`;
  const redis = createRedisConnection(redisUrl, 'client', 'admin-test');
  const queueConnection = createRedisConnection(redisUrl, 'producer', 'admin-test');
  const queues = createQueues({ connection: queueConnection, prefix });
  const app = await buildAdmin({
    config: {
      env: 'test',
      adminApiTokens: [ADMIN_TOKEN],
      cookieSecret: COOKIE_SECRET,
      queuePrefix: prefix,
      publicAdminUrl: 'http://127.0.0.1',
      refreshLeadSeconds: 600,
      webhooks: { urls: options.webhookUrls ?? [], secrets: [] },
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
      ...(options.cookieSecrets ? { cookieSecrets: options.cookieSecrets } : {}),
    },
    prisma: options.wrapPrisma ? options.wrapPrisma(db.prisma) : db.prisma,
    redis,
    queues,
    keyring: parseKeyring(`k1:${randomBytes(32).toString('base64')}`),
    logger: process.env.TEST_ADMIN_LOG ? { level: process.env.TEST_ADMIN_LOG } : false,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.loginAttemptsPerMinute ? { loginAttemptsPerMinute: options.loginAttemptsPerMinute } : {}),
    ...(options.graphiql !== undefined ? { graphiql: options.graphiql } : {}),
  });
  return {
    app,
    db,
    redis,
    queues,
    prefix,
    async close() {
      await app.close();
      await Promise.allSettled(queues.all().map((q) => q.obliterate({ force: true })));
      await queues.close();
      redis.disconnect();
      queueConnection.disconnect();
      await db.drop();
    },
  };
}

/** Inserts `count` accounts in one statement. Every third shares its created_at with a neighbour (tie-breaking). */
export async function seedAccounts(prisma: PrismaClient, count: number, start = 0): Promise<void> {
  await prisma.$executeRawUnsafe(
    `INSERT INTO social_accounts (id, user_id, open_id, display_name, username, scopes, status,
       access_token_ciphertext, refresh_token_ciphertext, access_token_expires_at, created_at, updated_at, connected_at)
     SELECT gen_random_uuid(), 'user-' || (i % 10), 'open-' || i, 'Creator ' || i, 'creator_' || i,
       ARRAY['user.info.basic'],
       (CASE WHEN i % 10 = 0 THEN 'DISCONNECTED' WHEN i % 10 = 1 THEN 'REAUTH_REQUIRED' ELSE 'ACTIVE' END)::account_status,
       CASE WHEN i % 10 > 1 THEN 'v1.k1.AAAA.secret-access-' || i ELSE NULL END,
       CASE WHEN i % 10 > 1 THEN 'v1.k1.AAAA.secret-refresh-' || i ELSE NULL END,
       now() + interval '1 day', timestamp '2026-01-01' + (i / 3) * interval '1 second', now(),
       timestamp '2026-01-01' + (i / 3) * interval '1 second'
     FROM generate_series($1::int, $2::int) AS i`,
    start + 1,
    start + count,
  );
}

export async function seedEvents(prisma: PrismaClient, perAccount: number): Promise<void> {
  await prisma.$executeRawUnsafe(
    `INSERT INTO account_events (account_id, type, message, data, created_at)
     SELECT a.id, (ARRAY['CONNECTED','REFRESHED','REFRESH_FAILED']::account_event_type[])[1 + n % 3], 'event ' || n,
       jsonb_build_object('n', n, 'accessToken', 'must-not-leak'), a.created_at + n * interval '1 minute'
     FROM social_accounts a CROSS JOIN generate_series(1, $1::int) AS n`,
    perAccount,
  );
}

export function gql(
  app: FastifyInstance,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` },
) {
  return app.inject({ method: 'POST', url: '/graphql', headers, payload: { query, variables } });
}
