import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';
import { GatewayError } from '../errors.js';
import { REFERENCE_PATH, redirectResponse } from '../plugins/openapi.js';
import { createConnectSession } from '../services/create-session.js';
import { html } from '../views/html.js';
import { layout } from '../views/layout.js';
import { STYLESHEET, STYLESHEET_PATH } from '../views/styles.js';

export const DEMO_USER_ID = 'demo-user';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Whether a request comes from this machine: both the socket's peer and the client address Fastify derives (from
 * `X-Forwarded-For` when `TRUST_PROXY` says so) must be loopback, so neither a proxy on this host nor a forged header
 * alone makes a remote client local.
 */
export function fromLoopback(request: FastifyRequest): boolean {
  return LOOPBACK.has(request.ip) && LOOPBACK.has(request.socket.remoteAddress ?? '');
}

/**
 * `/` and the stylesheet everywhere; `/dev`, a one-click demo connect session, only when `NODE_ENV=development` was
 * set explicitly (a forgotten NODE_ENV defaults to development, and must not open it) and only to loopback clients.
 */
export const rootRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const development = ctx.config.env === 'development' && ctx.config.envExplicit;

  // A static asset of the pages, not an operation: left out of the OpenAPI document.
  app.get(STYLESHEET_PATH, { logLevel: 'warn', schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=31536000, immutable');
    return reply.type('text/css; charset=utf-8').send(STYLESHEET);
  });

  const docs = `${ctx.config.publicGatewayUrl}${REFERENCE_PATH}`;
  app.get(
    '/',
    {
      schema: {
        summary: 'What this service is',
        response: {
          200: z
            .object({ name: z.string(), docs: z.url().meta({ description: 'The API reference page' }) })
            .meta({ description: 'The service name and where its API reference is' }),
          ...(development ? { 302: redirectResponse('Development only: to `/dev`') } : {}),
        },
      },
    },
    async (request, reply) => {
      if (development && fromLoopback(request)) return reply.redirect('/dev', 302);
      return { name: 'tiktok-connect gateway', docs };
    },
  );

  if (!development) return;
  // Anyone else gets the same 404 as if the pages did not exist.
  const loopbackOnly = async (request: FastifyRequest) => {
    if (!fromLoopback(request)) throw new GatewayError('GW_NOT_FOUND');
  };

  const doneUrl = `${ctx.config.publicGatewayUrl}/dev/done`;
  // Development shortcuts, not part of the API (they never exist in production): left out of the document.
  app.get(
    '/dev',
    { schema: { hide: true }, config: { page: true }, onRequest: loopbackOnly },
    async (_request, reply) => {
      const returnTo = ctx.config.allowedReturnOrigins.includes(new URL(doneUrl).origin)
        ? doneUrl
        : (ctx.config.allowedReturnOrigins[0] ?? doneUrl);
      const session = await createConnectSession(ctx, { userId: DEMO_USER_ID, returnTo });
      reply.header('cache-control', 'no-store');
      return reply.redirect(session.url, 303);
    },
  );

  app.get(
    '/dev/done',
    { schema: { hide: true }, config: { page: true }, onRequest: loopbackOnly },
    async (_request, reply) => {
      const body = html`<div class="card"><h1>Back in your app</h1>
<p>This is where the upstream app would take over. (Development only.)</p>
<div class="actions"><a class="button button-primary" href="/dev">Start a new demo session</a></div></div>`;
      return reply.type('text/html; charset=utf-8').send(layout({ title: 'Back in your app', body }));
    },
  );
};
