import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { errorResponses, GatewayError } from '../../errors.js';
import { apiKeyAuth } from '../../plugins/api-key-auth.js';
import { isConnectSessionPublicId } from '../../services/connect-sessions.js';
import { createConnectSession } from '../../services/create-session.js';
import { stringField, userIdField } from './schemas.js';

const body = z.object(
  {
    userId: userIdField().meta({ description: "Your user's id (opaque to the gateway).", examples: ['user-42'] }),
    returnTo: stringField('returnTo').meta({
      description:
        'Where "Done" sends the user back to (with `connect_session_id` added): under one of ALLOWED_RETURN_ORIGINS.',
      examples: ['https://app.example.com/settings/tiktok'],
    }),
    reconnectAccountId: stringField('reconnectAccountId')
      .max(100, 'reconnectAccountId is too long')
      .optional()
      .meta({ description: 'One of this user\'s accounts to re-authorize: the page offers "Reconnect @name".' }),
  },
  { error: 'The body must be a JSON object { "userId", "returnTo", "reconnectAccountId"? }.' },
);

const created = z
  .object({
    id: z.string().meta({
      description: 'The session id (`cs_…`): public, for `GET /v1/connect-sessions/{id}` and `connect_session_id`.',
      examples: ['cs_V1StGXR8Z5jdHi6B-myT'],
    }),
    url: z.url().meta({
      description: "The one-time link to send the user's browser to (it holds its own secret).",
      examples: ['https://connect.example.com/connect/cs_V1StGXR8Z5jdHi6B-myT.3q2…'],
    }),
    expiresAt: z.iso.datetime().meta({
      description: 'When the link stops working (CONNECT_SESSION_TTL_SECONDS).',
      examples: ['2026-01-31T12:15:00.000Z'],
    }),
  })
  .meta({ description: "The connect session: send the user's browser to `url`" });

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
      schema: {
        summary: 'Create a connect session',
        description:
          "A one-time, short-lived link to the hosted connect page for one of your users. `returnTo` must be an absolute http(s) URL under one of ALLOWED_RETURN_ORIGINS; `userId` is 1–255 characters of valid Unicode without control characters; `reconnectAccountId` (optional) must be one of that user's accounts.",
        body,
        response: { 201: created, ...errorResponses(400, 401, 404, 413, 415, 429, 500) },
      },
      bodyLimit: 16 * 1024,
      // onRequest: an unauthenticated caller is refused before its body is even read.
      onRequest: apiKeyAuth(ctx.config.gatewayApiKeys),
      preValidation: requireJson,
      config: { rateLimit: { max: 600, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const created = await createConnectSession(ctx, { ...request.body, apiKey: request.apiKeyName });
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/v1/connect-sessions/:id',
    {
      schema: {
        summary: 'Read a connect session and its results',
        description:
          'What happened in a connect session: when the link was opened, when the user clicked Done, and each account added or reconnected. Readable until a day after the session expired.',
        params: sessionParams,
        response: { 200: sessionResponse, ...errorResponses(401, 404, 429, 500) },
      },
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
