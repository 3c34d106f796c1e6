import formbody from '@fastify/formbody';
import { createAccounts } from '@ttc/accounts';
import { type AppConfig, serverTimeouts } from '@ttc/config';
import type { Keyring } from '@ttc/crypto';
import type { PrismaClient } from '@ttc/db';
import type { Queues, RedisClient } from '@ttc/queue';
import type { TikTokClient } from '@ttc/tiktok';
import Fastify, {
  type FastifyInstance,
  type FastifyRequest,
  type RouteOptions as FastifyRouteOptions,
  type FastifyServerOptions,
} from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { GatewayContext, RouteOptions } from './context.js';
import { GatewayError } from './errors.js';
import { cookies } from './plugins/cookies.js';
import { errorHandling, sendError, toGatewayError } from './plugins/error-handler.js';
import { GatewayLogController } from './plugins/log-controller.js';
import { GatewayMetrics, metricsPlugin } from './plugins/metrics.js';
import { openApi } from './plugins/openapi.js';
import { popupMode } from './plugins/popup-mode.js';
import { rateLimits } from './plugins/rate-limit.js';
import {
  computeSecurityHeaders,
  popupPageCsp,
  type SecurityHeadersOptions,
  securityHeaders,
} from './plugins/security-headers.js';
import { callbackRoutes } from './routes/auth/tiktok/callback.js';
import { disconnectRoutes } from './routes/connect/disconnect.js';
import { connectDoneRoutes } from './routes/connect/done.js';
import { connectLinkRoutes } from './routes/connect/link.js';
import { connectPageRoutes } from './routes/connect/page.js';
import { connectStartRoutes } from './routes/connect/tiktok.js';
import { healthRoutes } from './routes/health.js';
import { rootRoutes } from './routes/root.js';
import { sdkRoutes } from './routes/sdk.js';
import { accessTokenRoutes } from './routes/v1/access-token.js';
import { accountRoutes } from './routes/v1/accounts.js';
import { connectSessionsRoutes } from './routes/v1/connect-sessions.js';
import { BrowserCookies } from './services/browser-cookies.js';
import { ConnectOutcomeWaiter } from './services/connect-outcome.js';
import { ConnectSessionStore } from './services/connect-sessions.js';

/** What the gateway needs; the caller owns (creates and closes) every client. */
export interface GatewayDeps {
  config: AppConfig;
  prisma: PrismaClient;
  /** Plain-command Redis connection: connect sessions, used states, outcomes, rate limits. */
  redis: RedisClient;
  /** Producer-side queues (on their own `producer` connection). */
  queues: Queues;
  tiktok: TikTokClient;
  /** Token encryption keyring (TOKEN_ENCRYPTION_KEYS). */
  keyring: Keyring;
  /** Fastify logger options; `false` silences it (tests). Default: JSON at `config.logLevel`, secrets redacted. */
  logger?: FastifyServerOptions['logger'];
  /** Clock in ms since the epoch; tests move it to expire states and sessions. */
  now?: () => number;
  /** Overrides `config.trustProxy` (TRUST_PROXY): set behind a proxy, so rate limits see client addresses. */
  trustProxy?: FastifyServerOptions['trustProxy'];
  /** Sees every route as it is registered (the OpenAPI test lists them to find any the document misses). */
  onRoute?: (route: FastifyRouteOptions) => void;
  /** False leaves the rate limiter out (only `pnpm bench gateway-api`, to measure what it costs). Default true. */
  rateLimit?: boolean;
}

/** Query strings and one-time link ids never reach the logs: they carry codes, states and session secrets. */
export function logSafeUrl(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.replace(/^\/connect\/cs_[^/]*/, '/connect/[redacted]');
}

/** Default logger: what never to log is decided here, once, for every log line. */
export function gatewayLoggerOptions(config: AppConfig): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    // In development, written synchronously (stdout is synchronous for files, terminals and pipes on Linux): pino's
    // default asynchronous writer let the last shutdown line overtake the one before it at exit, in `pnpm dev`'s view.
    // Elsewhere the asynchronous writer stays: a slow log reader must not block request handling.
    ...(config.env === 'development' ? { stream: process.stdout } : {}),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.query',
        'res.headers["set-cookie"]',
        'headers.authorization',
        'headers.cookie',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req(request: FastifyRequest) {
        const line = { method: request.method, url: logSafeUrl(request.url), remoteAddress: request.ip };
        // The name of the gateway API key that authenticated the request (never the key).
        return request.apiKeyName ? { ...line, apiKey: request.apiKeyName } : line;
      },
    },
  };
}

/**
 * Builds the gateway (not listening). Plugins load in a fixed order: error handling and security headers first so
 * they cover everything, the OpenAPI document (it collects the routes as they register), then cookies, body parsing,
 * metrics and rate limits, then the routes.
 */
export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const https = config.publicGatewayUrl.startsWith('https://');
  const httpOrigins = [config.tiktok.authUrl, config.tiktok.apiUrl]
    .map((u) => new URL(u))
    .filter((u) => u.protocol === 'http:')
    .map((u) => u.origin);
  const headerOptions: SecurityHeadersOptions = {
    https,
    extraImageOrigins: [...new Set(httpOrigins)],
    formActionOrigins: [new URL(config.tiktok.authUrl).origin],
  };
  // Router errors skip every hook, the security headers' onRequest included: they get the same headers here.
  const frameworkErrorHeaders = computeSecurityHeaders(headerOptions);
  const app = Fastify({
    logger: deps.logger ?? gatewayLoggerOptions(config),
    logController: new GatewayLogController(),
    trustProxy: deps.trustProxy ?? (config.trustProxy as FastifyServerOptions['trustProxy']),
    bodyLimit: 64 * 1024,
    ...serverTimeouts(config.requestTimeoutMs),
    // The longest parameter of ours is a user id: 255 characters, up to 12 once percent-encoded (4-byte UTF-8).
    // Anything longer is not a route of ours.
    routerOptions: { maxParamLength: 255 * 12 },
    // Errors the router raises before any route or hook runs (an undecodable URL, an over-long parameter): without
    // this Fastify answers them itself, in its own shape, echoing the path, and without our security headers.
    frameworkErrors: (error, request, reply) => {
      // An over-long id cannot name anything of ours: answered like any other id that cannot exist.
      const mapped =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new GatewayError('GW_NOT_FOUND') : toGatewayError(error);
      request.log.info({ code: mapped.code, status: mapped.statusCode }, 'request refused');
      reply.headers(frameworkErrorHeaders);
      return sendError(request, reply, mapped);
    },
  });

  // Routes declare their params, query and body as zod schemas (typed through fastify-type-provider-zod): Fastify
  // checks requests against them before the handler runs, and the error handler answers a refusal as GW_VALIDATION.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const metrics = new GatewayMetrics();
  const now = deps.now ?? Date.now;
  // Built once: the access-token route refreshes (and disconnect enqueues revokes) through it.
  const accounts = createAccounts({
    prisma: deps.prisma,
    keyring: deps.keyring,
    redis: deps.redis,
    queues: deps.queues,
    queuePrefix: config.queuePrefix,
    logger: app.log,
    refreshLeadSeconds: config.refreshLeadSeconds,
    tiktok: deps.tiktok,
    lifecycle: {
      tiktokTimeoutMs: config.tiktok.timeoutMs,
      activeWindowMs: config.refreshPolicy.activeWindowHours * 3_600_000,
      idleRefreshEveryMs: config.refreshPolicy.idleEveryDays * 86_400_000,
    },
    webhooks: { endpoints: config.webhooks.urls },
    now,
  });
  const sessions = new ConnectSessionStore(deps.redis, config.queuePrefix);
  const connectOutcomes = new ConnectOutcomeWaiter({ redis: deps.redis, prefix: config.queuePrefix, sessions });
  app.addHook('onClose', () => connectOutcomes.close());
  const ctx: GatewayContext = {
    config,
    prisma: deps.prisma,
    redis: deps.redis,
    queues: deps.queues,
    tiktok: deps.tiktok,
    keyring: deps.keyring,
    accounts,
    sessions,
    connectOutcomes,
    cookies: new BrowserCookies(config.cookieSecrets, { secure: https }),
    metrics,
    now,
  };

  // Set by the API key check (plugins/api-key-auth.ts); declared up front so every request has the same shape.
  app.decorateRequest('apiKeyName', null);
  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);
  await app.register(errorHandling);
  await app.register(securityHeaders, headerOptions);
  // Before any route: the document is generated from the routes' schemas as they register.
  await app.register(openApi, { publicUrl: config.publicGatewayUrl, https });
  await app.register(cookies);
  await app.register(popupMode, { ctx, popupCsp: popupPageCsp(frameworkErrorHeaders) });
  await app.register(formbody, { bodyLimit: 4096 });
  await app.register(metricsPlugin, { metrics, token: config.metricsToken });
  if (deps.rateLimit !== false) {
    await app.register(rateLimits, { redis: deps.redis, nameSpace: `${config.queuePrefix}:gateway-rate-limit:` });
  }

  const routeOptions: RouteOptions = { ctx };
  await app.register(rootRoutes, routeOptions);
  await app.register(sdkRoutes, routeOptions);
  await app.register(healthRoutes, routeOptions);
  await app.register(connectSessionsRoutes, routeOptions);
  await app.register(accessTokenRoutes, routeOptions);
  await app.register(accountRoutes, routeOptions);
  await app.register(connectLinkRoutes, routeOptions);
  await app.register(connectPageRoutes, routeOptions);
  await app.register(connectStartRoutes, routeOptions);
  await app.register(disconnectRoutes, routeOptions);
  await app.register(connectDoneRoutes, routeOptions);
  await app.register(callbackRoutes, routeOptions);
  return app;
}
