import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';
import { REFERENCE_PATH, redirectResponse } from '../plugins/openapi.js';
import { createConnectSession } from '../services/create-session.js';
import { html } from '../views/html.js';
import { layout } from '../views/layout.js';
import { STYLESHEET, STYLESHEET_PATH } from '../views/styles.js';

export const DEMO_USER_ID = 'demo-user';

/** `/` and the stylesheet everywhere; in development also `/dev`, a one-click demo connect session. */
export const rootRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const development = ctx.config.env === 'development';

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
    async (_request, reply) => {
      if (development) return reply.redirect('/dev', 302);
      return { name: 'tiktok-connect gateway', docs };
    },
  );

  if (!development) return;

  const doneUrl = `${ctx.config.publicGatewayUrl}/dev/done`;
  // Development shortcuts, not part of the API (they never exist in production): left out of the document.
  app.get('/dev', { schema: { hide: true }, config: { page: true } }, async (_request, reply) => {
    const returnTo = ctx.config.allowedReturnOrigins.includes(new URL(doneUrl).origin)
      ? doneUrl
      : (ctx.config.allowedReturnOrigins[0] ?? doneUrl);
    const session = await createConnectSession(ctx, { userId: DEMO_USER_ID, returnTo });
    reply.header('cache-control', 'no-store');
    return reply.redirect(session.url, 303);
  });

  app.get('/dev/done', { schema: { hide: true }, config: { page: true } }, async (_request, reply) => {
    const body = html`<div class="card"><h1>Back in your app</h1>
<p>This is where the upstream app would take over. (Development only.)</p>
<div class="actions"><a class="button button-primary" href="/dev">Start a new demo session</a></div></div>`;
    return reply.type('text/html; charset=utf-8').send(layout({ title: 'Back in your app', body }));
  });
};
