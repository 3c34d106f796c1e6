import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { errorResponses, GatewayError } from '../../errors.js';
import { apiKeyAuth } from '../../plugins/api-key-auth.js';
import { createConnectSession, hasControlCharacters } from '../../services/create-session.js';

/** With the `u` flag a surrogate only matches when it is not half of a pair. */
const LONE_SURROGATE = /\p{Cs}/u;

/** A string field whose refusal says whether it was missing or of another type. */
function stringField(name: string) {
  return z.string({
    error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be a string`),
  });
}

const body = z.object(
  {
    userId: stringField('userId')
      .min(1, 'userId must not be empty')
      .max(255, 'userId must be at most 255 characters')
      .refine((v) => !hasControlCharacters(v), 'userId must not contain control characters')
      // A lone surrogate cannot be stored: Redis and Postgres receive UTF-8, where every one becomes U+FFFD, so two
      // different user ids would end up as one user, sharing each other's TikTok accounts.
      .refine((v) => !LONE_SURROGATE.test(v), 'userId must be valid Unicode text')
      .meta({ description: "Your user's id (opaque to the gateway).", examples: ['user-42'] }),
    returnTo: stringField('returnTo').meta({
      description: 'Where "Done" sends the user back to: under one of ALLOWED_RETURN_ORIGINS.',
      examples: ['https://app.example.com/settings/tiktok'],
    }),
  },
  { error: 'The body must be a JSON object { "userId", "returnTo" }.' },
);

const created = z
  .object({
    id: z
      .string()
      .meta({ description: 'The session id (`cs_…`): a bearer secret, part of `url`.', examples: ['cs_3q2…'] }),
    url: z.url().meta({
      description: "The one-time link to send the user's browser to.",
      examples: ['https://connect.example.com/connect/cs_3q2…'],
    }),
    expiresAt: z.iso.datetime().meta({
      description: 'When the link stops working (CONNECT_SESSION_TTL_SECONDS).',
      examples: ['2026-01-31T12:15:00.000Z'],
    }),
  })
  .meta({ description: "The connect session: send the user's browser to `url`" });

/** Fastify also parses text/plain and forms; this API speaks JSON only, and says so before judging the body. */
async function requireJson(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type'] ?? '';
  if (request.body !== undefined && !/^application\/json\b/i.test(type)) {
    throw new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE');
  }
}

/** `POST /v1/connect-sessions`: an upstream app asks for a one-time connect link for one of its users. */
export const connectSessionsRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  app.post(
    '/v1/connect-sessions',
    {
      schema: {
        summary: 'Create a connect session',
        description:
          'A one-time, short-lived link to the hosted connect page for one of your users. `returnTo` must be an absolute http(s) URL under one of ALLOWED_RETURN_ORIGINS; `userId` is 1–255 characters of valid Unicode without control characters.',
        body,
        response: { 201: created, ...errorResponses(400, 401, 413, 415, 429, 500) },
      },
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
};
