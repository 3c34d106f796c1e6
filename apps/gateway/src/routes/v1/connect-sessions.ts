import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { GatewayError } from '../../errors.js';
import { apiKeyAuth } from '../../plugins/api-key-auth.js';
import { createConnectSession, hasControlCharacters } from '../../services/create-session.js';

/** With the `u` flag a surrogate only matches when it is not half of a pair. */
const LONE_SURROGATE = /\p{Cs}/u;

const body = z.object({
  userId: z
    .string({ error: 'userId must be a string' })
    .min(1, 'userId must not be empty')
    .max(255, 'userId must be at most 255 characters')
    .refine((v) => !hasControlCharacters(v), 'userId must not contain control characters')
    // A lone surrogate cannot be stored: Redis and Postgres receive UTF-8, where every one becomes U+FFFD, so two
    // different user ids would end up as one user, sharing each other's TikTok accounts.
    .refine((v) => !LONE_SURROGATE.test(v), 'userId must be valid Unicode text'),
  returnTo: z.string({ error: 'returnTo must be a string' }),
});

/** `POST /v1/connect-sessions`: an upstream app asks for a one-time connect link for one of its users. */
export const connectSessionsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.post(
    '/v1/connect-sessions',
    {
      bodyLimit: 16 * 1024,
      // onRequest: an unauthenticated caller is refused before its body is even read.
      onRequest: apiKeyAuth(ctx.config.gatewayApiKeys),
      config: { rateLimit: { max: 600, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      // Fastify also parses text/plain; this API speaks JSON only.
      const type = request.headers['content-type'] ?? '';
      if (request.body !== undefined && !/^application\/json\b/i.test(type)) {
        throw new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE');
      }
      const parsed = body.safeParse(request.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const message =
          request.body === null || typeof request.body !== 'object' || Array.isArray(request.body)
            ? 'The body must be a JSON object { "userId", "returnTo" }.'
            : issue?.code === 'invalid_type'
              ? // zod 4 does not report the input; whether the field was sent at all tells the two cases apart.
                (request.body as Record<string, unknown>)[String(issue.path[0])] === undefined
                ? `${String(issue.path[0])} is required`
                : `${String(issue.path[0])} must be a string`
              : (issue?.message ?? 'The request is invalid.');
        throw new GatewayError('GW_VALIDATION', message);
      }
      const created = await createConnectSession(ctx, parsed.data);
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(created);
    },
  );
};
