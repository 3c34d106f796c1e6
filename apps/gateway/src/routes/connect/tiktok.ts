import { hashToken } from '@ttc/crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { redirectResponse } from '../../plugins/openapi.js';
import { createAuthorizeStarter } from '../../services/authorize-url.js';
import type { ConnectCookie } from '../../services/browser-cookies.js';
import { loadSessionAccount, requireConnectCookie } from '../../services/browser-session.js';
import { OAUTH_STATE_TTL_SECONDS, OAuthStates } from '../../services/oauth-state.js';

/**
 * `GET /connect/tiktok`: starts a connection. The state is self-authenticating and bound to this browser's connect
 * cookie, and the PKCE verifier is derived from the state's nonce (see services/oauth-state.ts), so this route
 * touches neither Redis nor Postgres and sets no cookie: it opens the connect cookie (memoised), computes two HMACs
 * and a SHA-256, and redirects. It is a GET (a form with method=get) so that it also works as a plain link.
 */
// Any string: an id that cannot exist is answered 404 by the account service's error, like one that does not.
const reconnectParams = z.object({ id: z.string() });
// Never refused as such: a form that is not this shape is answered by the session and CSRF checks.
const reconnectBody = z.object({ csrf: z.string().optional().catch(undefined) }).catch({});

export const connectStartRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const { tiktok: tt } = ctx.config;
  const startAuthorization = createAuthorizeStarter(ctx.tiktok, new OAuthStates(ctx.config.cookieSecrets), {
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
      const { url } = authorize(cookie, now);
      return reply.redirect(url, 302);
    },
  );

  function authorize(cookie: ConnectCookie, now: number) {
    // Never beyond the connect session: once its cookie is gone the callback can no longer verify the state, and
    // an expiry it can read (unauthenticated, for wording only) lets it say "expired" rather than "other browser".
    const exp = Math.min(Math.floor(now / 1000) + OAUTH_STATE_TTL_SECONDS, Math.floor(cookie.exp / 1000));
    const started = startAuthorization(cookie, exp);
    ctx.metrics.authorizeRedirects.inc();
    return started;
  }

  /**
   * `POST /connect/accounts/:id/reconnect` (form, CSRF token): the same TikTok authorization, remembering which
   * account it set out to re-authorize (in the session, under the hash of this authorization's nonce), so that the
   * callback can tell when TikTok returned another account. The account must belong to the session's user.
   */
  app.post(
    '/connect/accounts/:id/reconnect',
    {
      schema: {
        summary: 'Reconnect an account (form)',
        description:
          "A form post from the connect page (CSRF-checked) for one of the session user's accounts: starts TikTok's authorization like `GET /connect/tiktok`, remembering which account it set out to re-authorize.",
        params: reconnectParams,
        body: reconnectBody,
        consumes: ['application/x-www-form-urlencoded'],
        response: { 303: redirectResponse("To TikTok's authorization page") },
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
      const { state, url } = authorize(cookie, ctx.now());
      const nonce = state.split('.')[0] as string;
      await ctx.sessions.recordReconnectIntent(session.ref, hashToken(nonce), account.id);
      return reply.redirect(url, 303);
    },
  );
};
