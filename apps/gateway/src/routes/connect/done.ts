import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { GatewayError } from '../../errors.js';
import { htmlResponse, redirectResponse } from '../../plugins/openapi.js';
import { isPopupRequest } from '../../plugins/popup-mode.js';
import { loadBrowserSession } from '../../services/browser-session.js';
import { html } from '../../views/html.js';
import { layout } from '../../views/layout.js';
import { popupMessage } from './page.js';

/**
 * `returnTo` with `connect_session_id=<id>` added to its query: the existing query is kept as it is (appended to,
 * not re-encoded), and a fragment stays last.
 */
export function returnToWithSessionId(returnTo: string, sessionId: string): string {
  const hashAt = returnTo.indexOf('#');
  const base = hashAt === -1 ? returnTo : returnTo.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : returnTo.slice(hashAt);
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}connect_session_id=${encodeURIComponent(sessionId)}${fragment}`;
}

const querystring = z.object({ csrf: z.string().optional().catch(undefined) });

/**
 * `GET /connect/done?csrf=…`: the page's "Done". Records when the user finished (`finishedAt`, first click) and sends
 * the browser back to `returnTo` with `connect_session_id=<id>`, so the upstream app knows which session to read
 * (`GET /v1/connect-sessions/:id`). A link rather than a form: the page's CSP allows forms to post only to the gateway
 * and TikTok, and a form's redirect to the app would be held to that too. CSRF-checked like the page's forms.
 */
export const connectDoneRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  app.get(
    '/connect/done',
    {
      schema: {
        summary: 'Done: back to the app',
        description:
          'The connect page\'s "Done" link (CSRF-checked): records `finishedAt` and redirects to `returnTo` with `connect_session_id=<id>` added to its query. In popup mode it answers a page that posts `tiktok-connect:done` with the results to the opener and closes the popup.',
        querystring,
        response: {
          200: htmlResponse('Popup mode: "All set", which reports to the opener and closes itself'),
          303: redirectResponse('Back to `returnTo?…&connect_session_id=<id>`'),
        },
      },
      config: { page: true, rateLimit: { max: 120, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { cookie, session } = await loadBrowserSession(ctx, request, reply);
      if (!ctx.cookies.checkCsrf(cookie, request.query.csrf)) {
        throw new GatewayError('GW_CSRF_INVALID', undefined, { links: { backToConnect: true } });
      }
      await ctx.sessions.finish(session.ref, ctx.now());
      const back = returnToWithSessionId(session.returnTo, session.ref);
      if (!isPopupRequest(ctx, request)) return reply.redirect(back, 303);
      // Popup mode: the page that opened the popup takes over (or reads the results with its client token).
      const popup = await popupMessage(ctx, session, 'done');
      const body = html`<div class="card"><h1>All set</h1>
<p>You can close this window and go back to ${new URL(session.returnTo).host}.</p>
<div class="actions"><a class="button button-primary" href="${back}">Back to the app</a></div></div>`;
      return reply.type('text/html; charset=utf-8').send(layout({ title: 'All set', body, popup }));
    },
  );
};
