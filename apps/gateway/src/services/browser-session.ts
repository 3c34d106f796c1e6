import type { AccountSummary } from '@ttc/accounts';
import { hashToken } from '@ttc/crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';
import type { ConnectCookie } from './browser-cookies.js';
import type { ConnectSession } from './connect-sessions.js';

/** The connect cookie reaches the callback too: the OAuth state is bound to it. */
export const CONNECT_COOKIE_PATH = '/';

/** Attributes of the connect cookie (see browser-cookies.ts for why `Path=/` and `SameSite=Lax`). */
export function cookieAttributes(ctx: GatewayContext, path: string, maxAgeSeconds: number) {
  return {
    path,
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: ctx.cookies.secure,
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
  };
}

export function clearConnectCookie(ctx: GatewayContext, reply: FastifyReply): void {
  reply.clearCookie(ctx.cookies.names.connect, { path: CONNECT_COOKIE_PATH, secure: ctx.cookies.secure });
}

/**
 * This browser's connect cookie, opened (memoised, no I/O), or a catalogue error: expired (and cleared) or missing.
 * Enough for the authorize redirect; routes that need the session itself use {@link loadBrowserSession}.
 */
export function requireConnectCookie(
  ctx: GatewayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  now: number,
): ConnectCookie {
  const cookie = ctx.cookies.openConnect(request.cookies[ctx.cookies.names.connect], now);
  if (cookie === 'expired') {
    clearConnectCookie(ctx, reply);
    throw new GatewayError('GW_CONNECT_SESSION_EXPIRED');
  }
  if (cookie === 'missing' || cookie === 'invalid') throw new GatewayError('GW_CONNECT_SESSION_MISSING');
  return cookie;
}

/** The connect session this browser holds, or a catalogue error explaining why there is none. */
export async function loadBrowserSession(
  ctx: GatewayContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<{ cookie: ConnectCookie; session: ConnectSession }> {
  const now = ctx.now();
  const cookie = requireConnectCookie(ctx, request, reply, now);
  const session = await ctx.sessions.load(cookie.sr, now);
  if (session === null) {
    clearConnectCookie(ctx, reply);
    throw new GatewayError('GW_CONNECT_SESSION_EXPIRED', undefined, { links: { returnTo: cookie.rt } });
  }
  // The cookie is sealed by us, so this only fails if the cookie secret leaked; checked anyway (cheap).
  if (session.claimedBy !== hashToken(cookie.bid)) throw new GatewayError('GW_CONNECT_SESSION_MISSING');
  return { cookie, session };
}

/**
 * For the page's account forms: this browser's session, the form's CSRF token checked, and the account, which must
 * belong to the session's user (another user's account answers exactly like a missing one).
 */
export async function loadSessionAccount(
  ctx: GatewayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  form: { accountId: string; csrf: string | undefined },
): Promise<{ cookie: ConnectCookie; session: ConnectSession; account: AccountSummary }> {
  const { cookie, session } = await loadBrowserSession(ctx, request, reply);
  if (!ctx.cookies.checkCsrf(cookie, form.csrf)) {
    throw new GatewayError('GW_CSRF_INVALID', undefined, { links: { backToConnect: true } });
  }
  const account = await ctx.accounts.get(form.accountId);
  if (account === null || account.userId !== session.userId) {
    throw new GatewayError('GW_ACCOUNT_NOT_FOUND', undefined, { links: { backToConnect: true } });
  }
  return { cookie, session, account };
}
