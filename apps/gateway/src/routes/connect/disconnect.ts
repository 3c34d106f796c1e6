import { randomUUID } from 'node:crypto';
import { type AccountSummary, isAccountError } from '@ttc/accounts';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../../context.js';
import { GatewayError } from '../../errors.js';
import { loadBrowserSession } from '../../services/browser-session.js';
import { renderConfirmDisconnectPage } from '../../views/connect-page.js';

interface DisconnectBody {
  csrf?: unknown;
  confirm?: unknown;
}

/**
 * `POST /connect/accounts/:id/disconnect`: two steps, no JavaScript needed. The first post (the account's
 * "Disconnect" button) shows a confirmation page; the second (`confirm=yes`) disconnects and goes back to the list.
 * Both are CSRF-checked, and the account must belong to this session's user.
 */
export const disconnectRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.post<{ Params: { id: string }; Body: DisconnectBody }>(
    '/connect/accounts/:id/disconnect',
    { bodyLimit: 4096, config: { page: true, rateLimit: { max: 30, timeWindow: 60_000 } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { cookie, session } = await loadBrowserSession(ctx, request, reply);
      const body = (request.body ?? {}) as DisconnectBody;
      if (!ctx.cookies.checkCsrf(cookie, body.csrf)) {
        throw new GatewayError('GW_CSRF_INVALID', undefined, { links: { backToConnect: true } });
      }
      const notFound = () => new GatewayError('GW_ACCOUNT_NOT_FOUND', undefined, { links: { backToConnect: true } });
      let account: AccountSummary | null;
      try {
        account = await ctx.accounts.get(request.params.id);
      } catch (error) {
        if (isAccountError(error)) throw notFound();
        throw error;
      }
      // Another user's account answers exactly like a missing one.
      if (account === null || account.userId !== session.userId) throw notFound();

      if (body.confirm !== 'yes') {
        return reply
          .type('text/html; charset=utf-8')
          .send(renderConfirmDisconnectPage({ account, csrfToken: ctx.cookies.csrfToken(cookie) }));
      }
      try {
        await ctx.accounts.disconnect({ accountId: account.id, userId: session.userId, actor: 'user' });
      } catch (error) {
        if (isAccountError(error)) throw notFound();
        throw error;
      }
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
