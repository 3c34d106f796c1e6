import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { serverTimeouts } from '@ttc/config';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { SandboxError } from './errors.js';
import { logIdOf, oauthError, type SandboxContext, setLogId, userInfoError } from './http.js';
import { isAcceptableRedirectUri, registerAuthorizeRoutes } from './routes/authorize.js';
import { registerAvatarRoutes } from './routes/avatars.js';
import { registerControlRoutes } from './routes/control.js';
import { registerOAuthRoutes } from './routes/oauth.js';
import { registerUserInfoRoutes } from './routes/user-info.js';
import { newLogId, SandboxState } from './state.js';
import type { SandboxOptions } from './types.js';
import { allProfiles } from './users.js';
import { homePage, noticePage } from './views/pages.js';

function checkOptions(options: SandboxOptions): void {
  const problems: string[] = [];
  const port = options.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) problems.push('port');
  for (const key of ['accessTokenTtlSeconds', 'refreshTokenTtlSeconds', 'codeTtlSeconds'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) problems.push(key);
  }
  if (options.clientKey === '') problems.push('clientKey');
  if (options.appName !== undefined && options.appName.trim() === '') problems.push('appName');
  if (options.clientSecret === '') problems.push('clientSecret');
  if (options.redirectUris?.some((uri) => !isAcceptableRedirectUri(uri, []))) problems.push('redirectUris');
  const timeout = options.requestTimeoutMs;
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) problems.push('requestTimeoutMs');
  if (options.publicUrl !== undefined && !/^https?:\/\/[^/]/.test(options.publicUrl)) problems.push('publicUrl');
  if (problems.length > 0) {
    throw new SandboxError('SANDBOX_INVALID_OPTIONS', `Invalid sandbox options: ${problems.join(', ')}`);
  }
}

/** The app and its state; startSandbox needs both. */
export async function createSandbox(
  options: SandboxOptions = {},
): Promise<{ app: FastifyInstance; state: SandboxState }> {
  checkOptions(options);
  const state = new SandboxState(options);
  const app = Fastify({
    logger: options.logger
      ? { redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'] }
      : false,
    routerOptions: { ignoreTrailingSlash: true },
    ...serverTimeouts(options.requestTimeoutMs ?? 30_000),
  });
  const ctx: SandboxContext = {
    state,
    baseUrl: (req: FastifyRequest) => state.publicUrl ?? `${req.protocol}://${req.host}`,
  };

  app.addHook('onRequest', async (req, reply) => {
    const logId = newLogId();
    setLogId(req, logId);
    reply.header('x-tt-logid', logId);
  });
  await app.register(cookie);
  await app.register(formbody);
  // Any other body type reaches the routes as text, so they answer in TikTok's shape instead of Fastify's 415.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) req.log.error({ err: error }, 'sandbox request failed');
    const message = status < 500 ? error.message : 'Internal server error.';
    const path = req.url.split('?')[0] ?? '';
    if (path.startsWith('/v2/oauth/')) {
      return reply.code(status).send(oauthError(req, status < 500 ? 'invalid_request' : 'server_error', message));
    }
    if (path.startsWith('/v2/user/')) {
      return reply.code(status).send(userInfoError(req, status < 500 ? 'invalid_params' : 'internal_error', message));
    }
    if (path.startsWith('/v2/auth/')) {
      return reply.code(status).type('text/html; charset=utf-8').send(noticePage('Something went wrong', message));
    }
    return reply.code(status).send({ error: { code: error.code ?? 'SANDBOX_ERROR', message }, log_id: logIdOf(req) });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: { code: 'not_found', message: `No route ${req.method} ${req.url.split('?')[0]}` },
      log_id: logIdOf(req),
    }),
  );

  // What a developer who opens the sandbox's address (the dev banner prints it) needs to know.
  app.get('/', async (req, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header(
        'content-security-policy',
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
      )
      .send(
        homePage({
          baseUrl: ctx.baseUrl(req),
          clientKey: state.clientKey,
          appName: state.appName,
          users: allProfiles(),
        }),
      ),
  );
  registerAuthorizeRoutes(app, ctx);
  registerOAuthRoutes(app, ctx);
  registerUserInfoRoutes(app, ctx);
  registerAvatarRoutes(app, ctx);
  registerControlRoutes(app, ctx);
  await app.ready();
  return { app, state };
}

/**
 * The sandbox as a Fastify app that is not listening, for `app.inject()`. Its control API is reachable with
 * `createSandboxControl(app)`. Throws `SANDBOX_INVALID_OPTIONS` for bad options.
 */
export async function buildSandboxApp(options: SandboxOptions = {}): Promise<FastifyInstance> {
  return (await createSandbox(options)).app;
}
