import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../../context.js';
import { GatewayError } from '../../errors.js';
import { createAuthorizeStarter } from '../../services/authorize-url.js';
import { clearConnectCookie, cookieAttributes } from '../../services/browser-session.js';

/** How long the user has on TikTok's pages before the callback is refused as expired. */
export const OAUTH_STATE_TTL_SECONDS = 600;

/**
 * `GET /connect/tiktok`: starts a connection. State and PKCE verifier travel in a sealed cookie scoped to
 * `/auth/tiktok`, so this route touches neither Redis nor Postgres: it only opens one cookie, seals another and
 * redirects. It is a GET (a form with method=get) so that it also works as a plain link.
 */
export const connectStartRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { tiktok: tt } = ctx.config;
  const startAuthorization = createAuthorizeStarter(ctx.tiktok, {
    redirectUri: tt.redirectUri,
    scopes: tt.scopes,
    extras: {
      disableAutoAuth: tt.disableAutoAuth,
      promptSelectAccount: tt.promptSelectAccount,
      forceAuthentication: tt.forceAuthentication,
    },
  });
  // The hot route of the gateway (every "Connect" click, and what load tests hammer): it logs only warnings and
  // errors, and the redirects are counted in `gateway_authorize_redirects_total` instead of one log line each.
  app.get('/connect/tiktok', { logLevel: 'warn', config: { page: true } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const now = ctx.now();
    const cookie = ctx.cookies.openConnect(request.cookies[ctx.cookies.names.connect], now);
    if (cookie === 'expired') {
      clearConnectCookie(ctx, reply);
      throw new GatewayError('GW_CONNECT_SESSION_EXPIRED');
    }
    if (cookie === 'missing' || cookie === 'invalid') throw new GatewayError('GW_CONNECT_SESSION_MISSING');
    const { state, verifier, url } = startAuthorization();
    reply.setCookie(
      ctx.cookies.names.oauth,
      ctx.cookies.sealOAuth(
        { st: state, cv: verifier, sr: cookie.sr, bid: cookie.bid, uid: cookie.uid },
        OAUTH_STATE_TTL_SECONDS,
        now,
      ),
      cookieAttributes(ctx, '/auth/tiktok', OAUTH_STATE_TTL_SECONDS),
    );
    ctx.metrics.authorizeRedirects.inc();
    return reply.redirect(url, 302);
  });
};
