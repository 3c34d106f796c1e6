import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../../context.js';
import { redirectResponse } from '../../plugins/openapi.js';
import { createAuthorizeStarter } from '../../services/authorize-url.js';
import { requireConnectCookie } from '../../services/browser-session.js';
import { OAUTH_STATE_TTL_SECONDS, OAuthStates } from '../../services/oauth-state.js';

/**
 * `GET /connect/tiktok`: starts a connection. The state is self-authenticating and bound to this browser's connect
 * cookie, and the PKCE verifier is derived from the state's nonce (see services/oauth-state.ts), so this route
 * touches neither Redis nor Postgres and sets no cookie: it opens the connect cookie (memoised), computes two HMACs
 * and a SHA-256, and redirects. It is a GET (a form with method=get) so that it also works as a plain link.
 */
export const connectStartRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { tiktok: tt } = ctx.config;
  const startAuthorization = createAuthorizeStarter(ctx.tiktok, new OAuthStates(ctx.config.cookieSecret), {
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
  app.get(
    '/connect/tiktok',
    {
      logLevel: 'warn',
      schema: {
        summary: 'Start connecting a TikTok account',
        description:
          "The connect page's button (a form with method=get). Needs the connect cookie; sets none and stores nothing.",
        response: { 302: redirectResponse("To TikTok's authorize page (state and PKCE challenge in its query)") },
      },
      config: { page: true, bodilessRedirect: true },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const now = ctx.now();
      const cookie = requireConnectCookie(ctx, request, reply, now);
      // Never beyond the connect session: once its cookie is gone the callback can no longer verify the state, and
      // an expiry it can read (unauthenticated, for wording only) lets it say "expired" rather than "other browser".
      const exp = Math.min(Math.floor(now / 1000) + OAUTH_STATE_TTL_SECONDS, Math.floor(cookie.exp / 1000));
      const { url } = startAuthorization(cookie, exp);
      ctx.metrics.authorizeRedirects.inc();
      return reply.redirect(url, 302);
    },
  );
};
