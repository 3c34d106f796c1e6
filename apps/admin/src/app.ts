import helmet from '@fastify/helmet';
import { createAccounts } from '@ttc/accounts';
import { type AppConfig, serverTimeouts } from '@ttc/config';
import type { Keyring } from '@ttc/crypto';
import type { PrismaClient } from '@ttc/db';
import type { Queues, RedisClient } from '@ttc/queue';
import { createWebhookDeliverer } from '@ttc/webhooks';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import { GRAPHIQL_CSP, graphiqlRoutes } from './console/graphiql.js';
import { consolePlugin } from './console/routes.js';
import { errorBody, isDependencyUnavailable, RETRY_AFTER_SECONDS, SERVICE_UNAVAILABLE_MESSAGE } from './errors.js';
import type { QueryLimits } from './graphql/limits.js';
import { graphqlPlugin } from './graphql/plugin.js';
import { AccountsRepository } from './graphql/repository.js';
import { WebhookDeliveriesRepository } from './graphql/webhook-repository.js';
import { AdminAuthenticator } from './plugins/auth.js';
import { healthPlugin } from './plugins/health.js';
import { metricsPlugin } from './plugins/metrics.js';
import { QUEUE_DASHBOARD_PATH, queueDashboardPlugin } from './plugins/queue-dashboard.js';

export interface AdminDeps {
  config: Pick<
    AppConfig,
    'env' | 'adminApiTokens' | 'cookieSecret' | 'queuePrefix' | 'publicAdminUrl' | 'refreshLeadSeconds'
  > &
    /** Without it, no webhooks are recorded by the admin's disconnects. */
    Partial<Pick<AppConfig, 'webhooks' | 'requestTimeoutMs' | 'trustProxy' | 'cookieSecrets'>>;
  prisma: PrismaClient;
  /** A plain-command Redis connection (readiness, account services). */
  redis: RedisClient;
  queues: Queues;
  /** Token keyring (TOKEN_ENCRYPTION_KEYS), for the account services. */
  keyring: Keyring;
  /** Fastify logger option; the app adds redaction of credentials. Default: no logging. */
  logger?: FastifyServerOptions['logger'];
  limits?: Partial<QueryLimits>;
  /** Serve GraphiQL at /graphiql. Default: in development only. */
  graphiql?: boolean;
  /** Login attempts per IP per minute on the console login form. */
  loginAttemptsPerMinute?: number;
}

/** Log paths that may hold credentials: never written, whatever the log level. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-admin-csrf"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.accessTokenCiphertext',
  '*.refreshTokenCiphertext',
];

const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

// Bull Board's page sets inline style attributes and loads its font from Google; it runs no inline script.
const QUEUES_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  "font-src 'self' https://fonts.gstatic.com",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "object-src 'none'",
].join('; ');

const UNAVAILABLE_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title>
<link rel="stylesheet" href="/console/assets/console.css"></head><body><main class="card">
<h1>Temporarily unavailable</h1><p>The admin console cannot reach its database or Redis right now. Nothing was changed.
Try again in a moment.</p><p><a href="/console">Try again</a></p><p class="code">SERVICE_UNAVAILABLE</p></main></body></html>`;

function cspFor(url: string): string {
  if (url.startsWith(QUEUE_DASHBOARD_PATH)) return QUEUES_CSP;
  if (url.startsWith('/graphiql')) return GRAPHIQL_CSP;
  return CONSOLE_CSP;
}

/**
 * The admin app as a Fastify instance, ready to `listen` or `inject`. It owns none of its clients: the caller closes
 * Prisma, Redis and the queues after `app.close()`.
 */
export async function buildAdmin(deps: AdminDeps): Promise<FastifyInstance> {
  const logger =
    deps.logger === undefined || deps.logger === false
      ? false
      : {
          ...(typeof deps.logger === 'object' ? deps.logger : {}),
          redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
        };
  const app = Fastify({
    logger,
    bodyLimit: 256 * 1024,
    // Behind a proxy (TRUST_PROXY), the login limiter and the logs see the client's address, not the proxy's.
    trustProxy: (deps.config.trustProxy ?? false) as FastifyServerOptions['trustProxy'],
    ...serverTimeouts(deps.config.requestTimeoutMs ?? 30_000),
    // The id of a request shows up in its log lines and in internal error responses for support.
    genReqId: () => crypto.randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
    // Errors raised while routing (an undecodable URL, an over-long parameter) come before any hook, so helmet has
    // not run and Fastify's default body would echo the path back: answer them here, in our shape.
    frameworkErrors: (error, _request, rawReply) => {
      const notFound = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      (rawReply as unknown as FastifyReply)
        .code(notFound ? 404 : 400)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-store')
        .send(
          notFound ? errorBody('NOT_FOUND', 'Not found') : errorBody('BAD_REQUEST', 'The request URL is not valid.'),
        );
    },
  });

  const auth = new AdminAuthenticator({
    tokens: deps.config.adminApiTokens,
    // Every COOKIE_SECRET when given (rotation: the first seals, all open), else the one.
    cookieSecret: deps.config.cookieSecrets ?? deps.config.cookieSecret,
    secureCookie: deps.config.env === 'production' || deps.config.publicAdminUrl.startsWith('https:'),
    revocations: { redis: deps.redis, keyPrefix: deps.config.queuePrefix },
  });
  const repo = new AccountsRepository(deps.prisma);
  const accounts = createAccounts({
    prisma: deps.prisma,
    keyring: deps.keyring,
    redis: deps.redis,
    queues: deps.queues,
    queuePrefix: deps.config.queuePrefix,
    refreshLeadSeconds: deps.config.refreshLeadSeconds,
    logger: app.log,
    webhooks: { endpoints: deps.config.webhooks?.urls ?? [] },
  });
  // Only for `redeliverWebhook` (it re-enqueues; the worker signs and sends), so it gets no signing secret.
  const webhooks = createWebhookDeliverer({
    prisma: deps.prisma,
    queues: deps.queues,
    redis: deps.redis,
    endpoints: deps.config.webhooks?.urls ?? [],
    secrets: [],
  });

  await app.register(helmet, {
    // Set per path below: the console, Bull Board and GraphiQL need different policies.
    contentSecurityPolicy: false,
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) {
      reply.header('content-security-policy', cspFor(request.url));
    }
    return payload;
  });

  // Only catalogue codes go out: Fastify's own (FST_ERR_…) are answered as what they are to a client.
  app.setErrorHandler((error: Partial<FastifyError> & Error, request, reply) => {
    if (isDependencyUnavailable(error)) {
      request.log.warn({ err: { name: error.name, message: error.message } }, 'dependency unavailable');
      reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).header('cache-control', 'no-store');
      // The console's pages are opened by people: a page saying so, with the way back, rather than JSON.
      if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) {
        return reply.type('text/html; charset=utf-8').send(UNAVAILABLE_PAGE);
      }
      return reply.send(errorBody('SERVICE_UNAVAILABLE', SERVICE_UNAVAILABLE_MESSAGE));
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send(errorBody('INTERNAL_SERVER_ERROR', 'Internal server error'));
    }
    const code = status === 429 ? 'RATE_LIMITED' : status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
    // A route schema's refusal says what its first issue says.
    return reply.code(status).send(errorBody(code, error.validation?.[0]?.message ?? error.message));
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(errorBody('NOT_FOUND', 'Not found')));

  await app.register(metricsPlugin, { repo, queues: deps.queues, auth });
  await app.register(healthPlugin, { prisma: deps.prisma, redis: deps.redis });
  await app.register(graphqlPlugin, {
    auth,
    context: {
      repo,
      accounts,
      queues: deps.queues,
      webhooks,
      webhookLog: new WebhookDeliveriesRepository(deps.prisma),
    },
    ...(deps.limits ? { limits: deps.limits } : {}),
  });
  if (deps.graphiql ?? deps.config.env === 'development') await app.register(graphiqlRoutes, { auth });
  await app.register(queueDashboardPlugin, { queues: deps.queues, auth });
  await app.register(consolePlugin, {
    auth,
    ...(deps.loginAttemptsPerMinute ? { loginAttemptsPerMinute: deps.loginAttemptsPerMinute } : {}),
  });
  return app;
}
