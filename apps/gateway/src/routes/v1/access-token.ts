import { isAccountError } from '@ttc/accounts';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteOptions } from '../../context.js';
import { GatewayError } from '../../errors.js';
import { apiKeyAuth } from '../../plugins/api-key-auth.js';

const query = z.object({
  minValidity: z
    .string()
    .regex(/^\d{1,6}$/, 'minValidity must be a whole number of seconds')
    .transform(Number)
    .pipe(z.number().max(86_400, 'minValidity must be at most 86400 seconds'))
    .optional(),
});

/**
 * `GET /v1/accounts/:id/access-token` (gateway API key): a valid TikTok access token for an upstream app,
 * `{ accessToken, expiresAt, openId, scopes }`, never cached (`Cache-Control: no-store`).
 *
 * A token expiring within `minValidity` seconds (default 300, capped at half the token's lifetime) is refreshed
 * first, through the same one-at-a-time refresh as the worker: 50 requests at once cause one refresh at TikTok.
 * Errors: 404 `GW_ACCOUNT_NOT_FOUND` (also for ids that cannot exist), 409 `GW_ACCOUNT_REAUTH_REQUIRED`,
 * 410 `GW_ACCOUNT_DISCONNECTED`, 503 `GW_TIKTOK_UNAVAILABLE` (expired, and TikTok cannot refresh it right now).
 */
export const accessTokenRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get(
    '/v1/accounts/:id/access-token',
    {
      onRequest: apiKeyAuth(ctx.config.gatewayApiKeys),
      config: { rateLimit: { max: 6_000, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const parsed = query.safeParse(request.query);
      if (!parsed.success) {
        throw new GatewayError('GW_VALIDATION', parsed.error.issues[0]?.message ?? 'The query is invalid.');
      }
      const minValidity = parsed.data.minValidity;
      try {
        const token = await ctx.accounts.getFreshAccessToken(id, {
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
      } catch (error) {
        if (isAccountError(error, 'ACCOUNT_NOT_FOUND') || isAccountError(error, 'ACCOUNT_INVALID_ID')) {
          throw new GatewayError('GW_ACCOUNT_NOT_FOUND', 'No connected account has this id.');
        }
        if (isAccountError(error, 'ACCOUNT_REAUTH_REQUIRED')) {
          throw new GatewayError('GW_ACCOUNT_REAUTH_REQUIRED', undefined, { cause: error });
        }
        if (isAccountError(error, 'ACCOUNT_DISCONNECTED')) {
          throw new GatewayError('GW_ACCOUNT_DISCONNECTED', undefined, { cause: error });
        }
        if (isAccountError(error, 'ACCOUNT_REFRESH_UNAVAILABLE')) {
          throw new GatewayError('GW_TIKTOK_UNAVAILABLE', undefined, { cause: error });
        }
        throw error;
      }
    },
  );
};
