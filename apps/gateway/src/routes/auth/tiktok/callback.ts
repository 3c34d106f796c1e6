import { randomUUID } from 'node:crypto';
import { tokenAad } from '@ttc/accounts';
import { loggedError } from '@ttc/config';
import { encryptToken, hashToken } from '@ttc/crypto';
import { enqueueAccountConnected } from '@ttc/queue';
import {
  type CallbackResult,
  isTikTokError,
  parseCallbackQuery,
  type TikTokUser,
  type UserInfoField,
} from '@ttc/tiktok';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GatewayContext, RouteOptions } from '../../../context.js';
import { GatewayError } from '../../../errors.js';
import { redirectResponse } from '../../../plugins/openapi.js';
import type { ConnectCookie } from '../../../services/browser-cookies.js';
import type { ConnectResult } from '../../../services/connect-sessions.js';
import { OAUTH_STATE_TTL_SECONDS, OAuthStates, type ParsedState } from '../../../services/oauth-state.js';
import { MISSING_SCOPE_REASON, reasonForAuthorizeError, reasonForError } from '../../../services/tiktok-reasons.js';

/** How long a used state is remembered: longer than a state can live, so a replay is always caught. */
const USED_STATE_TTL_SECONDS = 900;
/** Tolerated clock difference between gateway instances when judging a state's expiry as one we could issue. */
const CLOCK_SLACK_SECONDS = 60;
const BASIC_FIELDS: UserInfoField[] = ['open_id', 'union_id', 'avatar_url', 'display_name'];

// TikTok's parameters are read by parseCallbackQuery, whose refusal is GW_CALLBACK_INVALID (a page that says to start
// again), not GW_VALIDATION: the schema only names them.
const tiktokParameter = z.unknown().optional();
const querystring = z.looseObject({
  code: tiktokParameter,
  state: tiktokParameter,
  scopes: tiktokParameter,
  error: tiktokParameter,
  error_description: tiktokParameter,
});

/** An authentic, unexpired state, with the connect cookie it is bound to and its PKCE verifier. */
interface VerifiedState {
  state: ParsedState;
  cookie: ConnectCookie;
  verifier: string;
}

/**
 * Checks the state against this browser's connect cookie. Order matters: the expiry is only trusted after the MAC,
 * except to choose the wording of a refusal that happens anyway.
 */
function verifyState(
  ctx: GatewayContext,
  states: OAuthStates,
  rawState: string | undefined,
  rawCookie: string | undefined,
): VerifiedState {
  const state = rawState === undefined ? null : states.parse(rawState);
  if (state === null) throw new GatewayError('GW_CALLBACK_INVALID');
  const now = ctx.now();
  const nowSeconds = Math.floor(now / 1000);
  // An expiry further out than any the start route writes: not a state of ours, whatever the MAC says.
  if (state.exp > nowSeconds + OAUTH_STATE_TTL_SECONDS + CLOCK_SLACK_SECONDS)
    throw new GatewayError('GW_STATE_INVALID');
  const cookie = ctx.cookies.openConnect(rawCookie, now);
  if (typeof cookie !== 'object') {
    // A state never outlives its connect session, so a lapsed state explains a cookie the browser dropped.
    if (state.exp <= nowSeconds) throw new GatewayError('GW_STATE_EXPIRED');
    if (cookie === 'expired') throw new GatewayError('GW_CONNECT_SESSION_EXPIRED');
    // No (readable) connect cookie: started in another browser, or this one lost its cookies.
    throw new GatewayError('GW_STATE_BROWSER_MISMATCH');
  }
  // Not issued for this browser's session: started in another browser, or before this browser opened another
  // connect link. A forged state lands here too; it cannot be told apart from another session's without the key.
  const verifier = states.verify(state, cookie);
  if (verifier === null) throw new GatewayError('GW_STATE_BROWSER_MISMATCH');
  if (state.exp <= nowSeconds) throw new GatewayError('GW_STATE_EXPIRED');
  return { state, cookie, verifier };
}

/**
 * `GET /auth/tiktok/callback`: TikTok's redirect back. Checks the state (issued by us for this browser's connect
 * session, unexpired, first use; see services/oauth-state.ts), recomputes the PKCE verifier from it, exchanges the
 * code, reads the profile, encrypts the tokens and enqueues `account.connected`, then sends the browser to the
 * connect page, which shows the outcome. Whatever TikTok does, the user gets a page saying what happened: never a 500.
 */
export const callbackRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const { tiktok: tt } = ctx.config;
  const states = new OAuthStates(ctx.config.cookieSecrets);

  async function finish(reply: FastifyReply, sessionRef: string, result: ConnectResult, resultId = randomUUID()) {
    await ctx.sessions.recordResult(sessionRef, resultId, result);
    return reply.redirect(`/connect?result=${resultId}`, 303);
  }

  function failed(reason: string, metricReason: string): ConnectResult {
    ctx.metrics.callbacks.inc({ result: 'failed', reason: metricReason });
    return { kind: 'failed', reason };
  }

  app.get(
    '/auth/tiktok/callback',
    {
      schema: {
        summary: "TikTok's redirect back (OAuth callback)",
        description:
          'The redirect URI registered at TikTok (TIKTOK_REDIRECT_URI). Checks the state against the connect cookie, exchanges the code and stores the connection in the background. Whatever TikTok answered, the user lands on the connect page with the outcome; an invalid, replayed or expired state gets an error page.',
        querystring,
        response: { 303: redirectResponse('To `/connect?result=<id>`, which shows the outcome') },
      },
      config: { page: true, rateLimit: { max: 60, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      // The URL holds a code: it must not leak through a Referer from whatever the next page loads.
      reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');

      let query: CallbackResult;
      try {
        query = parseCallbackQuery(request.query);
      } catch (error) {
        ctx.metrics.callbacks.inc({ result: 'rejected', reason: 'invalid_query' });
        throw new GatewayError('GW_CALLBACK_INVALID', undefined, { cause: error });
      }

      let verified: VerifiedState;
      try {
        verified = verifyState(ctx, states, query.state, request.cookies[ctx.cookies.names.connect]);
      } catch (error) {
        ctx.metrics.callbacks.inc({ result: 'rejected', reason: (error as GatewayError).code ?? 'state' });
        throw error;
      }
      const { state, cookie, verifier } = verified;
      // Single use, enforced here because the start route keeps nothing server-side. Keyed by the nonce: it is
      // what the verifier derives from, and a verifying state's other parts are fixed by it and the browser.
      const first = await ctx.redis.set(
        `${ctx.config.queuePrefix}:oauth-state-used:${hashToken(state.nonce)}`,
        '1',
        'EX',
        USED_STATE_TTL_SECONDS,
        'NX',
      );
      if (first !== 'OK') {
        ctx.metrics.callbacks.inc({ result: 'rejected', reason: 'GW_STATE_REPLAYED' });
        throw new GatewayError('GW_STATE_REPLAYED', undefined, { links: { backToConnect: true } });
      }
      const session = await ctx.sessions.load(cookie.sr, ctx.now());
      if (session === null) {
        ctx.metrics.callbacks.inc({ result: 'rejected', reason: 'GW_CONNECT_SESSION_EXPIRED' });
        // Expired, or lost with Redis while the user was at TikTok: the code is never exchanged, nothing is added.
        throw new GatewayError('GW_CONNECT_SESSION_EXPIRED', undefined, { links: { returnTo: cookie.rt } });
      }
      // The cookie is sealed by us, so this only fails if the cookie secret leaked; checked anyway (cheap).
      if (session.claimedBy !== hashToken(cookie.bid) || session.userId !== cookie.uid) {
        throw new GatewayError('GW_STATE_INVALID');
      }

      if (query.kind === 'error') {
        request.log.info({ tiktokError: query.error.slice(0, 64) }, 'TikTok authorization not granted');
        if (query.error === 'access_denied') {
          ctx.metrics.callbacks.inc({ result: 'denied', reason: 'access_denied' });
          return finish(reply, session.ref, { kind: 'denied' });
        }
        return finish(reply, session.ref, failed(reasonForAuthorizeError(query.error), 'authorize_error'));
      }

      const signal = AbortSignal.timeout(tt.timeoutMs * 2 + 1000);
      let tokens: Awaited<ReturnType<typeof ctx.tiktok.exchangeCode>>;
      try {
        tokens = await ctx.tiktok.exchangeCode(
          { code: query.code, redirectUri: tt.redirectUri, codeVerifier: verifier },
          { signal },
        );
      } catch (error) {
        request.log.warn({ error: loggedError(error) }, 'TikTok code exchange failed');
        return finish(
          reply,
          session.ref,
          failed(reasonForError(error), isTikTokError(error) ? error.code : 'exchange'),
        );
      }

      // The token answer is authoritative; the query's list is a fallback for a token answer without `scope`.
      const granted = tokens.scopes.length > 0 ? tokens.scopes : query.scopes;
      if (!tt.requiredScopes.every((scope) => granted.includes(scope))) {
        return finish(reply, session.ref, failed(MISSING_SCOPE_REASON, 'missing_scope'));
      }

      let user: TikTokUser;
      try {
        const fields = granted.includes('user.info.profile') ? [...BASIC_FIELDS, 'username' as const] : BASIC_FIELDS;
        user = await ctx.tiktok.getUserInfo(tokens.accessToken, fields, { signal });
      } catch (error) {
        request.log.warn({ error: loggedError(error) }, 'TikTok user info failed');
        return finish(
          reply,
          session.ref,
          failed(reasonForError(error), isTikTokError(error) ? error.code : 'user_info'),
        );
      }
      if (user.openId !== tokens.openId) {
        request.log.warn('TikTok user info answered for another open_id than the token');
        return finish(reply, session.ref, failed(reasonForError(undefined), 'open_id_mismatch'));
      }

      const aad = tokenAad({ userId: session.userId, openId: tokens.openId });
      const connectionId = randomUUID();
      // Recorded before the enqueue: a fast worker can finish before the redirect, and the page must know the id.
      // A "Reconnect" of one account: the page compares it with the account TikTok returned. Both at once (the user
      // waits for this callback).
      const [, reconnecting] = await Promise.all([
        ctx.sessions.recordResult(session.ref, connectionId, { kind: 'pending' }),
        ctx.sessions.readReconnectIntent(session.ref, hashToken(state.nonce)),
      ]);
      if (reconnecting !== null) await ctx.sessions.recordConnectionIntent(session.ref, connectionId, reconnecting);
      try {
        await enqueueAccountConnected(ctx.queues, {
          version: 1,
          connectionId,
          connectSessionId: session.ref,
          userId: session.userId,
          platform: 'TIKTOK',
          openId: tokens.openId,
          unionId: user.unionId ?? null,
          displayName: (user.displayName ?? '').slice(0, 255),
          username: user.username ?? null,
          avatarUrl: user.avatarUrl && user.avatarUrl.length <= 2048 ? user.avatarUrl : null,
          scopes: granted,
          accessTokenCiphertext: encryptToken(ctx.keyring, tokens.accessToken, aad),
          refreshTokenCiphertext: encryptToken(ctx.keyring, tokens.refreshToken, aad),
          accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
          refreshTokenExpiresAt: tokens.refreshTokenExpiresAt.toISOString(),
          obtainedAt: new Date(tokens.accessTokenExpiresAt.getTime() - tokens.expiresIn * 1000).toISOString(),
          ...(session.apiKey ? { apiKey: session.apiKey } : {}),
        });
      } catch (error) {
        request.log.error({ err: error }, 'could not enqueue account.connected');
        return finish(
          reply,
          session.ref,
          failed('We could not save your account right now. Please try again in a moment.', 'enqueue'),
          connectionId,
        );
      }
      ctx.metrics.callbacks.inc({ result: 'enqueued', reason: '' });
      return reply.redirect(`/connect?result=${connectionId}`, 303);
    },
  );
};
