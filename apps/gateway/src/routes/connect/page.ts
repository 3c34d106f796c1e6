import { isUuid } from '@ttc/accounts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GatewayContext, RouteOptions } from '../../context.js';
import { htmlResponse } from '../../plugins/openapi.js';
import { isPopupRequest } from '../../plugins/popup-mode.js';
import { loadBrowserSession } from '../../services/browser-session.js';
import type { ConnectResult, ConnectSession } from '../../services/connect-sessions.js';
import { accountLabel, type Banner, renderConnectPage } from '../../views/connect-page.js';
import type { PopupMessage } from '../../views/layout.js';

/** The account a "Reconnect" set out to re-authorize, as the page names it. */
interface ReconnectTarget {
  id: string;
  displayName: string;
  username: string | null;
}

/**
 * The banner after a "Reconnect": the same account came back, or TikTok returned another one, which is never
 * merged into the first: the page says which one came back and whether it was added.
 */
function reconnectBanner(result: Extract<ConnectResult, { kind: 'done' }>, target: ReconnectTarget): Banner {
  const label = accountLabel(result.displayName, result.username);
  if (result.accountId === target.id) return { tone: 'success', title: `Reconnected ${label}` };
  const wanted = accountLabel(target.displayName, target.username);
  return {
    tone: 'warning',
    title: `TikTok returned ${label}, not ${wanted}.`,
    text:
      result.outcome === 'added'
        ? `${label} was added as another account. ${wanted} is still not reconnected: click its "Reconnect" button and, on TikTok's page, choose 'Use another account' and sign in as ${wanted}.`
        : `${label} was already connected; we refreshed its connection. ${wanted} is still not reconnected: click its "Reconnect" button and, on TikTok's page, choose 'Use another account' and sign in as ${wanted}.`,
  };
}

function bannerFor(result: ConnectResult): Banner {
  switch (result.kind) {
    case 'pending':
      return {
        tone: 'info',
        title: 'Adding your account…',
        text: 'This takes a few seconds. The page updates by itself.',
      };
    case 'done': {
      const label = accountLabel(result.displayName, result.username);
      return result.outcome === 'added'
        ? { tone: 'success', title: `Added ${label}` }
        : {
            tone: 'info',
            title: `${label} was already connected — we refreshed its connection.`,
            text: "To add a different account: on TikTok's page choose 'Use another account', or sign out of TikTok and try again.",
          };
    }
    case 'denied':
      return { tone: 'warning', title: 'You cancelled on TikTok. Nothing was connected.' };
    case 'failed':
      return { tone: 'error', title: 'The account could not be connected.', text: result.reason };
    case 'disconnected':
      return { tone: 'success', title: `Disconnected ${accountLabel(result.displayName, result.username)}` };
  }
}

/**
 * The outcome for `?result=<id>`, and the account it set out to reconnect, if any. Results are stored inside the
 * browser's own connect session, so an id from another session simply is not found here: nobody can read another
 * user's outcome by guessing ids.
 */
async function resolveResult(
  ctx: GatewayContext,
  sessionRef: string,
  resultId: string | undefined,
): Promise<{ result: ConnectResult | null; reconnecting: string | null; waiting: boolean }> {
  if (resultId === undefined || !isUuid(resultId)) return { result: null, reconnecting: null, waiting: false };
  // A pending result is waited for (the worker's job event brings the outcome; no polling).
  const [{ result, waiting }, reconnecting] = await Promise.all([
    ctx.connectOutcomes.settle(sessionRef, resultId, ctx.config.connectOutcomeWaitMs),
    ctx.sessions.readConnectionIntent(sessionRef, resultId),
  ]);
  return { result, reconnecting, waiting };
}

function bannerOf(
  result: ConnectResult | null,
  reconnecting: string | null,
  accounts: readonly ReconnectTarget[],
): Banner | undefined {
  if (result === null) return undefined;
  const target = reconnecting === null ? undefined : accounts.find((a) => a.id === reconnecting);
  return result.kind === 'done' && target !== undefined ? reconnectBanner(result, target) : bannerFor(result);
}

/**
 * What a popup-mode page posts to the upstream app's page: every result of the session so far (account ids, open
 * ids, names, outcomes; never a token), as `tiktok-connect:account` after a connection, `tiktok-connect:cancelled`
 * after a cancel on TikTok, else `tiktok-connect:ready`. Posted to the origin of `returnTo` only.
 */
export async function popupMessage(
  ctx: GatewayContext,
  session: ConnectSession,
  type: 'ready' | 'account' | 'cancelled' | 'done',
): Promise<PopupMessage> {
  const record = await ctx.sessions.readRecord(session.ref, ctx.now());
  const results = (record?.results ?? []).map((r) => ({
    accountId: r.accountId,
    openId: r.openId,
    displayName: r.displayName,
    outcome: r.outcome,
  }));
  return {
    targetOrigin: new URL(session.returnTo).origin,
    message: { type: `tiktok-connect:${type}`, sessionId: session.ref, results },
    ...(type === 'done' ? { close: true } : {}),
  };
}

function popupMessageType(result: ConnectResult | null): 'ready' | 'account' | 'cancelled' {
  if (result?.kind === 'done') return 'account';
  if (result?.kind === 'denied') return 'cancelled';
  return 'ready';
}

// A result id that is not one string (`?result=a&result=b`) is ignored like an unknown one: the page still shows.
const querystring = z.object({ result: z.string().optional().catch(undefined) });

/** `GET /connect`: the hosted page listing the session user's TikTok accounts. */
export const connectPageRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  app.get(
    '/connect',
    {
      schema: {
        summary: 'The hosted connect page',
        description:
          'The session user\'s TikTok accounts, with "Connect a TikTok account", "Disconnect" and "Done"; with `?result=` also the outcome of a connection. Needs the connect cookie (401 page without it).',
        querystring,
        response: { 200: htmlResponse('The page') },
      },
      config: { page: true, rateLimit: { max: 120, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { cookie, session } = await loadBrowserSession(ctx, request, reply);
      const { result, reconnecting, waiting } = await resolveResult(ctx, session.ref, request.query.result);
      const accounts = await ctx.accounts.listUserAccounts(session.userId, { includeDisconnected: true });
      const banner = bannerOf(result, reconnecting, accounts);
      const popup = isPopupRequest(ctx, request)
        ? await popupMessage(ctx, session, popupMessageType(result))
        : undefined;
      return reply.type('text/html; charset=utf-8').send(
        renderConnectPage({
          accounts,
          banner,
          waiting,
          csrfToken: ctx.cookies.csrfToken(cookie),
          returnTo: session.returnTo,
          reconnectAccountId: session.reconnectAccountId,
          locale: request.headers['accept-language'],
          popup,
        }),
      );
    },
  );
};
