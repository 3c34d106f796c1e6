import { hashToken } from '@ttc/crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { GatewayError } from '../../errors.js';
import { redirectResponse } from '../../plugins/openapi.js';
import { CONNECT_COOKIE_PATH, cookieAttributes } from '../../services/browser-session.js';
import { parseLinkToken } from '../../services/connect-sessions.js';

// Any string: a link that cannot exist is answered 404 below, like one that does not.
const params = z.object({ sessionId: z.string() });
// Anything but `popup` is the default full-page mode (an unknown value must not break the link).
const querystring = z.object({ display: z.enum(['page', 'popup']).optional().catch(undefined) });

/**
 * `GET /connect/:sessionId`: the one-time link. Its first use binds the session to this browser (a sealed cookie)
 * and redirects to the clean `/connect`, so the secret leaves the address bar, the history and any Referer.
 * The same browser opening it again is sent on; any other browser gets "already used".
 */
export const connectLinkRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  app.get(
    '/connect/:sessionId',
    {
      schema: {
        summary: 'Open a one-time connect link',
        description:
          'The `url` of a connect session. The first browser to open it is bound to the session (a sealed cookie) and sent to `/connect`; the same browser may open it again, any other gets "already used" (410). `?display=popup`: the pages run in a popup and report to `window.opener` (see the browser SDK).',
        params,
        querystring,
        response: { 303: redirectResponse('To `/connect`, with the connect cookie set') },
      },
      config: { page: true, rateLimit: { max: 60, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { sessionId } = request.params;
      const link = parseLinkToken(sessionId);
      if (link === null) throw new GatewayError('GW_CONNECT_SESSION_NOT_FOUND');
      const { ref } = link;
      const now = ctx.now();
      const session = await ctx.sessions.loadByLink(link, now);
      if (session === 'expired') throw new GatewayError('GW_CONNECT_SESSION_EXPIRED');
      if (session === 'not_found') throw new GatewayError('GW_CONNECT_SESSION_NOT_FOUND');
      const popup = request.query.display === 'popup' || session.display === 'popup';
      // Decided here for this response too (the cookie that says so is only being set).
      request.popupMode = popup;
      const existing = ctx.cookies.openConnect(request.cookies[ctx.cookies.names.connect], now);
      if (typeof existing === 'object' && existing.sr === ref && session.claimedBy === hashToken(existing.bid)) {
        return reply.redirect('/connect', 303);
      }
      const bid = ctx.cookies.newBrowserId();
      if (!(await ctx.sessions.claim(ref, hashToken(bid), now))) {
        throw new GatewayError('GW_CONNECT_SESSION_USED', undefined, { links: { returnTo: session.returnTo } });
      }
      const ttlSeconds = Math.max(1, Math.floor((session.expiresAt.getTime() - now) / 1000));
      reply.setCookie(
        ctx.cookies.names.connect,
        ctx.cookies.sealConnect(
          {
            sr: ref,
            bid,
            uid: session.userId,
            exp: now + ttlSeconds * 1000,
            rt: session.returnTo,
            ...(popup ? { dm: 'popup' as const } : {}),
          },
          ttlSeconds,
          now,
        ),
        cookieAttributes(ctx, CONNECT_COOKIE_PATH, ttlSeconds),
      );
      return reply.redirect('/connect', 303);
    },
  );
};
