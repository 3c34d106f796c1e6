import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { errorResponses, GatewayError } from '../../errors.js';
import { apiKeyAuth } from '../../plugins/api-key-auth.js';
import { CLIENT_TOKEN_SCHEME } from '../../plugins/openapi.js';
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
    display: z.enum(['page', 'popup'], { error: 'display must be "page" or "popup"' }).optional().meta({
      description:
        '`popup` when your page opens the link in a popup (the browser SDK does): the page then reports each result to `window.opener` (postMessage, to the origin of `returnTo` only) and "Done" closes the popup. Same as adding `?display=popup` to `url`. Default `page` (a full-page redirect).',
    }),
  },
  { error: 'The body must be a JSON object { "userId", "returnTo", "reconnectAccountId"?, "display"? }.' },
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
    clientToken: z.string().meta({
      description:
        "A token for the user's browser (safe to hand to your page, unlike the API key): it reads this one session's results at `GET /v1/connect-sessions/{id}/result` and nothing else. The browser SDK polls with it when a popup's link to your page is cut.",
      examples: ['ct_Q2xpZW50VG9rZW5FeGFtcGxlVmFsdWVPZkZvcnR5VGhyZWU'],
    }),
    clientTokenExpiresAt: z.iso.datetime().meta({
      description: 'When the client token stops working: 10 minutes after the session expires.',
      examples: ['2026-01-31T12:25:00.000Z'],
    }),
  })
  .meta({ description: "The connect session: send the user's browser to `url`" });

const sessionParams = z.object({ id: z.string() });
const resultParams = z.object({
  id: z.string().regex(/^cs_[A-Za-z0-9_-]{22}$/, 'id must be a connect session id (cs_ and 22 characters)'),
});

const isoDate = z.iso.datetime({ offset: true });
const connectResult = z.object({
  accountId: z.string(),
  openId: z.string(),
  displayName: z.string(),
  outcome: z.enum(['added', 'reconnected']),
});

const sessionResponse = z.object({
  id: z.string(),
  userId: z.string(),
  returnTo: z.string(),
  createdAt: isoDate,
  expiresAt: isoDate,
  openedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  results: z.array(connectResult),
});

const clientResultResponse = z
  .object({
    id: z.string(),
    status: z.enum(['open', 'finished', 'expired']).meta({
      description:
        '`open`: the user may still add accounts; `finished`: the user clicked Done; `expired`: the session ended without Done.',
    }),
    expiresAt: isoDate,
    finishedAt: isoDate.nullable(),
    results: z.array(connectResult),
  })
  .meta({ description: "One session's results, for the browser holding its client token" });

/** `Authorization: Bearer ct_…`: the token, or undefined when the header is missing or of another shape. */
function bearerToken(header: string | undefined): string | undefined {
  const match = typeof header === 'string' ? /^Bearer[ ]+([^\s]{1,512})\s*$/i.exec(header) : null;
  return match?.[1];
}

const CLIENT_TOKEN_REFUSED =
  'Missing or invalid client token: send Authorization: Bearer <clientToken of this session>.';

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

  // The browser SDK's way to the results when the popup cannot post them (its opener link was cut): the client
  // token reads this one session's results, nothing else. Called cross-origin from the upstream app's page, so it
  // answers CORS for the session's `returnTo` origin only (by hand: one route, whose allowed origin is per session).
  app.get(
    '/v1/connect-sessions/:id/result',
    {
      schema: {
        summary: "Read a connect session's results with its client token (browser)",
        description:
          "For the user's browser (the browser SDK), not your server: `Authorization: Bearer <clientToken>` as returned when the session was created, valid until 10 minutes after the session expired. Answers CORS for the origin of the session's `returnTo` only. No user id, no return address, no token.",
        params: resultParams,
        security: [{ [CLIENT_TOKEN_SCHEME]: [] }],
        response: { 200: clientResultResponse, ...errorResponses(400, 401, 404, 429, 500) },
      },
      config: { rateLimit: { max: 600, timeWindow: 60_000 } },
      // Refusals (401, 404, 429, 503…) carry CORS for a configured return origin too: a browser hides an error
      // answer without it from the page, and the SDK then took an expired token for a network error and polled on.
      // They hold nothing of the session; a session's results name only its own origin (set in the handler).
      onSend: async (request, reply, payload) => {
        const origin = request.headers.origin;
        reply.header('vary', 'origin');
        if (
          !reply.hasHeader('access-control-allow-origin') &&
          typeof origin === 'string' &&
          ctx.config.allowedReturnOrigins.includes(origin)
        ) {
          reply.header('access-control-allow-origin', origin);
        }
        return payload;
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const token = bearerToken(request.headers.authorization);
      if (token === undefined) throw new GatewayError('GW_UNAUTHORIZED', CLIENT_TOKEN_REFUSED);
      const now = ctx.now();
      const found = await ctx.sessions.readResultWithClientToken(request.params.id, token, now);
      if (found === 'not_found') {
        throw new GatewayError('GW_CONNECT_SESSION_NOT_FOUND', 'No connect session has this id.');
      }
      if (found === 'unauthorized') throw new GatewayError('GW_UNAUTHORIZED', CLIENT_TOKEN_REFUSED);
      reply.header('access-control-allow-origin', new URL(found.returnTo).origin);
      return {
        id: found.id,
        status: (found.finishedAt !== null ? 'finished' : found.expiresAt.getTime() <= now ? 'expired' : 'open') as
          | 'finished'
          | 'expired'
          | 'open',
        expiresAt: found.expiresAt.toISOString(),
        finishedAt: found.finishedAt?.toISOString() ?? null,
        results: found.results.map((r) => ({
          accountId: r.accountId,
          openId: r.openId,
          displayName: r.displayName,
          outcome: r.outcome,
        })),
      };
    },
  );

  // CORS preflight of the route above (its Authorization header needs one): allowed for the configured return
  // origins; the GET itself then names only the session's own origin.
  app.options(
    '/v1/connect-sessions/:id/result',
    { schema: { hide: true }, logLevel: 'warn' },
    async (request, reply) => {
      const origin = request.headers.origin;
      reply.header('vary', 'origin');
      if (typeof origin === 'string' && ctx.config.allowedReturnOrigins.includes(origin)) {
        reply
          .header('access-control-allow-origin', origin)
          .header('access-control-allow-methods', 'GET')
          .header('access-control-allow-headers', 'authorization')
          .header('access-control-max-age', '600');
      }
      return reply.status(204).send();
    },
  );
};
