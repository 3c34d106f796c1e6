import rateLimit from '@fastify/rate-limit';
import type { RedisClient } from '@ttc/queue';
import type { FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { GatewayError } from '../errors.js';

export interface RateLimitPluginOptions {
  redis: RedisClient;
  /** Key prefix in Redis, so that several deployments (or test files) never share counters. */
  nameSpace: string;
}

/**
 * Redis-backed rate limits, shared by every gateway instance. Not global: each public route opts in with
 * `config.rateLimit` and its own budget. The authorize redirect deliberately does not (it must not wait on Redis).
 * When Redis is down the limiter lets requests through: the routes behind it need Redis anyway and fail clearly.
 */
export const rateLimits = fastifyPlugin(async (app: FastifyInstance, opts: RateLimitPluginOptions) => {
  await app.register(rateLimit, {
    global: false,
    redis: opts.redis,
    nameSpace: opts.nameSpace,
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new GatewayError('GW_RATE_LIMITED', `Too many requests. Retry in ${context.after}.`),
  });
});
