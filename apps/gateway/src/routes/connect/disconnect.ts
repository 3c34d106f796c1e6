import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { htmlResponse, redirectResponse } from '../../plugins/openapi.js';
import { loadSessionAccount } from '../../services/browser-session.js';
import { renderConfirmDisconnectPage } from '../../views/connect-page.js';

// Any string: an id that cannot exist is answered 404 by the account service's error, like one that does not.
const params = z.object({ id: z.string() });

/** A form field that is anything but one string counts as absent (and so fails the CSRF check). */
const formField = z.string().optional().catch(undefined);

// Never refused as such: a form that is not this shape is answered by the session and CSRF checks, in that order.
const body = z.object({ csrf: formField, confirm: formField }).catch({});

/**
 * `POST /connect/accounts/:id/disconnect`: two steps, no JavaScript needed. The first post (the account's
 * "Disconnect" button) shows a confirmation page; the second (`confirm=yes`) disconnects and goes back to the list.
 * Both are CSRF-checked, and the account must belong to this session's user.
 */
export const disconnectRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  app.post(
    '/connect/accounts/:id/disconnect',
    {
      schema: {
        summary: 'Disconnect an account (form)',
        description:
          'A form post from the connect page, CSRF-checked: without `confirm=yes` it answers a confirmation page, with it the account is disconnected and the browser goes back to the list.',
        params,
        body,
        consumes: ['application/x-www-form-urlencoded'],
        response: {
          200: htmlResponse('The confirmation page'),
          303: redirectResponse('Disconnected: back to `/connect?result=<id>`'),
        },
      },
      bodyLimit: 4096,
      config: { page: true, rateLimit: { max: 30, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { cookie, session, account } = await loadSessionAccount(ctx, request, reply, {
        accountId: request.params.id,
        csrf: request.body.csrf,
      });

      if (request.body.confirm !== 'yes') {
        return reply
          .type('text/html; charset=utf-8')
          .send(renderConfirmDisconnectPage({ account, csrfToken: ctx.cookies.csrfToken(cookie) }));
      }
      await ctx.accounts.disconnect({ accountId: account.id, userId: session.userId, actor: 'user' });
      ctx.metrics.disconnects.inc();
      const resultId = randomUUID();
      await ctx.sessions.recordResult(session.ref, resultId, {
        kind: 'disconnected',
        displayName: account.displayName,
        username: account.username,
      });
      return reply.redirect(`/connect?result=${resultId}`, 303);
    },
  );
};
