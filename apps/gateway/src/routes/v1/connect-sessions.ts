import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { GatewayError } from '../../errors.js';
import { apiKeyAuth } from '../../plugins/api-key-auth.js';
import { isConnectSessionPublicId } from '../../services/connect-sessions.js';
import { createConnectSession } from '../../services/create-session.js';
import { errorResponse, stringField, userIdField } from './schemas.js';

const body = z.object(
  {
    userId: userIdField(),
    returnTo: stringField('returnTo'),
    reconnectAccountId: stringField('reconnectAccountId').max(100, 'reconnectAccountId is too long').optional(),
  },
  { error: 'The body must be a JSON object { "userId", "returnTo", "reconnectAccountId"? }.' },
);

const sessionParams = z.object({ id: z.string() });

const isoDate = z.iso.datetime({ offset: true });
const sessionResponse = z.object({
  id: z.string(),
  userId: z.string(),
  returnTo: z.string(),
  createdAt: isoDate,
  expiresAt: isoDate,
  openedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  results: z.array(
    z.object({
      accountId: z.string(),
      openId: z.string(),
      displayName: z.string(),
      outcome: z.enum(['added', 'reconnected']),
    }),
  ),
});

/** Fastify also parses text/plain and forms; this API speaks JSON only, and says so before judging the body. */
async function requireJson(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type'] ?? '';
  if (request.body !== undefined && !/^application\/json\b/i.test(type)) {
    throw new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE');
  }
}

/**
 * `POST /v1/connect-sessions`: an upstream app asks for a one-time connect link for one of its users (optionally to
 * re-authorize one of their accounts). `GET /v1/connect-sessions/:id`: what happened in it, readable for a day after
 * it expired.
 */
export const connectSessionsRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  app.post(
    '/v1/connect-sessions',
    {
      schema: { body },
      bodyLimit: 16 * 1024,
      // onRequest: an unauthenticated caller is refused before its body is even read.
      onRequest: apiKeyAuth(ctx.config.gatewayApiKeys),
      preValidation: requireJson,
      config: { rateLimit: { max: 600, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const created = await createConnectSession(ctx, request.body);
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/v1/connect-sessions/:id',
    {
      schema: { params: sessionParams, response: { 200: sessionResponse, 401: errorResponse, 404: errorResponse } },
      onRequest: apiKeyAuth(ctx.config.gatewayApiKeys),
      config: { rateLimit: { max: 600, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      // An id that cannot exist is answered like one that does not (ids are opaque to clients).
      const record = isConnectSessionPublicId(request.params.id)
        ? await ctx.sessions.readRecord(request.params.id, ctx.now())
        : null;
      if (record === null) throw new GatewayError('GW_CONNECT_SESSION_NOT_FOUND', 'No connect session has this id.');
      reply.header('cache-control', 'no-store');
      return {
        id: record.id,
        userId: record.userId,
        returnTo: record.returnTo,
        createdAt: record.createdAt.toISOString(),
        expiresAt: record.expiresAt.toISOString(),
        openedAt: record.openedAt?.toISOString() ?? null,
        finishedAt: record.finishedAt?.toISOString() ?? null,
        results: record.results.map((r) => ({
          accountId: r.accountId,
          openId: r.openId,
          displayName: r.displayName,
          outcome: r.outcome,
        })),
      };
    },
  );
};
