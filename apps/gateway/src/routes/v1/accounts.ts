import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { errorResponses, GatewayError } from '../../errors.js';
import { apiKeyAuth } from '../../plugins/api-key-auth.js';
import { accountResponse, toAccountResponse, userIdField } from './schemas.js';

// Any string: an id that cannot exist is answered 404 by the account service's error, like one that does not.
const accountParams = z.object({ id: z.string() });
const userParams = z.object({ userId: userIdField() });
const listQuery = z.object({
  status: z
    .enum(['ACTIVE', 'REAUTH_REQUIRED', 'DISCONNECTED'], {
      error: 'status must be one of ACTIVE, REAUTH_REQUIRED, DISCONNECTED',
    })
    .optional(),
});

const isoDate = z.iso.datetime({ offset: true });
const erasureResponse = z.object({ userId: z.string(), erasedAccounts: z.number().int().min(0) });
const exportResponse = z.object({
  userId: z.string(),
  exportedAt: isoDate,
  accounts: z.array(
    accountResponse.extend({
      events: z.array(
        z.object({
          id: z.string(),
          type: z.string(),
          message: z.string().nullable(),
          data: z.unknown(),
          createdAt: isoDate,
        }),
      ),
    }),
  ),
});

const rateLimit = { max: 600, timeWindow: 60_000 };

/**
 * The account API for upstream apps (gateway API key): list a user's accounts, read one, disconnect one (exactly as
 * the page and the admin do, actor `upstream`), erase a user, export a user's data. Never a token in a body.
 */
export const accountRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  const auth = apiKeyAuth(ctx.config.gatewayApiKeys);

  app.get(
    '/v1/users/:userId/accounts',
    {
      schema: {
        summary: "List a user's accounts",
        description:
          'Every account of the user, newest first, with profile, status, scopes and expiry times; `status` filters.',
        params: userParams,
        querystring: listQuery,
        response: { 200: z.object({ accounts: z.array(accountResponse) }), ...errorResponses(400, 401, 429, 500) },
      },
      onRequest: auth,
      config: { rateLimit },
    },
    async (request, reply) => {
      const { status } = request.query;
      const accounts = await ctx.accounts.listUserAccounts(request.params.userId, {
        includeDisconnected: true,
        ...(status ? { status } : {}),
      });
      reply.header('cache-control', 'no-store');
      return { accounts: accounts.map(toAccountResponse) };
    },
  );

  // One account by id (GET reads it, DELETE disconnects it): the same parameters and answers.
  const oneAccount = (summary: string, description: string) => ({
    schema: {
      summary,
      description,
      params: accountParams,
      response: { 200: accountResponse, ...errorResponses(401, 404, 429, 500) },
    },
    onRequest: auth,
    config: { rateLimit },
  });

  const readOne = oneAccount('Read an account', 'One account: profile, status, scopes, expiry times, last error.');
  app.get('/v1/accounts/:id', readOne, async (request, reply) => {
    const account = await ctx.accounts.get(request.params.id);
    if (account === null) throw new GatewayError('GW_ACCOUNT_NOT_FOUND', 'No connected account has this id.');
    reply.header('cache-control', 'no-store');
    return toAccountResponse(account);
  });

  const disconnectOne = oneAccount(
    'Disconnect an account',
    'As the page and the admin do: tokens wiped, refresh cancelled, revoked at TikTok unless another user holds the same TikTok account. Idempotent; answers the account.',
  );
  app.delete('/v1/accounts/:id', disconnectOne, async (request, reply) => {
    const account = await ctx.accounts.disconnect({
      accountId: request.params.id,
      actor: 'upstream',
      apiKey: request.apiKeyName,
    });
    reply.header('cache-control', 'no-store');
    return toAccountResponse(account);
  });

  app.delete(
    '/v1/users/:userId',
    {
      schema: {
        summary: 'Erase a user',
        description:
          "Every account and event of the user is removed (revoked at TikTok where allowed), with the user's connect sessions; a `user.erased` webhook follows. Idempotent.",
        params: userParams,
        response: { 200: erasureResponse, ...errorResponses(400, 401, 429, 500) },
      },
      onRequest: auth,
      config: { rateLimit },
    },
    async (request, reply) => {
      // The whole erasure (accounts, events, sessions, jobs) is in the service; `user.erased` is told from its answer.
      const erasure = await ctx.accounts.eraseUser(request.params.userId);
      ctx.metrics.userErasures.inc();
      reply.header('cache-control', 'no-store');
      return { userId: erasure.userId, erasedAccounts: erasure.erasedAccounts };
    },
  );

  app.get(
    '/v1/users/:userId/export',
    {
      schema: {
        summary: "Export a user's data",
        description:
          "Everything stored about the user's connections (accounts and their events, never a token), as a JSON attachment.",
        params: userParams,
        response: { 200: exportResponse, ...errorResponses(400, 401, 429, 500) },
      },
      onRequest: auth,
      config: { rateLimit: { max: 60, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const data = await ctx.accounts.exportUser(request.params.userId);
      reply.header('cache-control', 'no-store');
      reply.header('content-disposition', 'attachment; filename="tiktok-connections.json"');
      return {
        userId: data.userId,
        exportedAt: data.exportedAt.toISOString(),
        accounts: data.accounts.map((a) => ({
          ...toAccountResponse(a),
          events: a.events.map((e) => ({
            id: e.id,
            type: e.type,
            message: e.message,
            data: e.data,
            createdAt: e.createdAt.toISOString(),
          })),
        })),
      };
    },
  );
};
