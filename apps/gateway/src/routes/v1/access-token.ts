import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { errorResponses } from '../../errors.js';
import { apiKeyAuth } from '../../plugins/api-key-auth.js';

// Any string: an id that cannot exist is answered 404 by the account service's error, like one that does not.
const params = z.object({ id: z.string() });

const querystring = z.object({
  minValidity: z
    .string()
    .regex(/^\d{1,6}$/, 'minValidity must be a whole number of seconds')
    .transform(Number)
    .pipe(z.number().max(86_400, 'minValidity must be at most 86400 seconds'))
    .optional()
    .meta({ description: 'Seconds the returned token must stay valid (0–86400, default 300).' }),
});

const accessToken = z
  .object({
    accessToken: z.string().meta({
      description: 'A TikTok access token, valid for at least `minValidity` seconds.',
      examples: ['act.example…'],
    }),
    expiresAt: z.iso.datetime().meta({ examples: ['2026-01-31T12:15:00.000Z'] }),
    openId: z.string().meta({ description: "The TikTok account's open_id.", examples: ['-000abc…'] }),
    scopes: z
      .array(z.string())
      .meta({ description: 'The scopes the user granted.', examples: [['user.info.basic', 'video.list']] }),
  })
  .meta({ description: 'A valid access token (refreshed first when it was about to expire)' });

/**
 * `GET /v1/accounts/:id/access-token` (gateway API key): a valid TikTok access token for an upstream app,
 * `{ accessToken, expiresAt, openId, scopes }`, never cached (`Cache-Control: no-store`).
 *
 * A token expiring within `minValidity` seconds (default 300, capped at half the token's lifetime) is refreshed
 * first, through the same one-at-a-time refresh as the worker: 50 requests at once cause one refresh at TikTok.
 * Errors (account errors mapped in errors.ts): 404 `GW_ACCOUNT_NOT_FOUND` (also for ids that cannot exist),
 * 409 `GW_ACCOUNT_REAUTH_REQUIRED`, 410 `GW_ACCOUNT_DISCONNECTED`, 503 `GW_TIKTOK_UNAVAILABLE` (expired, and TikTok
 * cannot refresh it right now).
 */
export const accessTokenRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  app.get(
    '/v1/accounts/:id/access-token',
    {
      schema: {
        summary: 'Get a valid access token for an account',
        description:
          'Refreshes the token first when it expires within `minValidity` seconds (default 300, capped at half its lifetime); 50 concurrent requests cause one refresh at TikTok. Never cached (`Cache-Control: no-store`).',
        params,
        querystring,
        response: { 200: accessToken, ...errorResponses(400, 401, 404, 409, 410, 429, 500, 503) },
      },
      onRequest: apiKeyAuth(ctx.config.gatewayApiKeys),
      config: { rateLimit: { max: 6_000, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const { minValidity } = request.query;
      // ctx.accounts lives as long as the app: its single-flight map is what 50 concurrent requests share.
      const token = await ctx.accounts.getFreshAccessToken(request.params.id, {
        ...(minValidity !== undefined ? { minValidityMs: minValidity * 1000 } : {}),
      });
      reply.header('cache-control', 'no-store');
      reply.header('pragma', 'no-cache');
      return {
        accessToken: token.accessToken,
        expiresAt: token.expiresAt.toISOString(),
        openId: token.openId,
        scopes: token.scopes,
      };
    },
  );
};
