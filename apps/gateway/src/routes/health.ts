import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';
import { type ErrorBody, errorBodySchema } from '../errors.js';

const CHECK_TIMEOUT_MS = 2_000;

async function check(run: () => Promise<unknown>): Promise<'ok' | 'failed'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch {
    return 'failed';
  } finally {
    clearTimeout(timer);
  }
}

const checks = z.object({ postgres: z.enum(['ok', 'failed']), redis: z.enum(['ok', 'failed']) });
const ready = z.object({ status: z.literal('ready'), checks }).meta({ description: 'Postgres and Redis answer' });
const unavailable = z
  .object({ status: z.literal('unavailable'), checks, error: errorBodySchema.shape.error })
  .meta({ description: 'Postgres or Redis (named in the message) does not answer' });

/** `GET /healthz` (the process answers) and `GET /readyz` (Postgres and Redis answer too). */
export const healthRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { ctx }) => {
  app.get(
    '/healthz',
    {
      logLevel: 'warn',
      schema: {
        summary: 'Liveness: the process answers',
        response: { 200: z.object({ status: z.literal('ok') }).meta({ description: 'The process answers' }) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return { status: 'ok' as const };
    },
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        summary: 'Readiness: Postgres and Redis answer',
        description: 'Each dependency is given 2 seconds; 503 names what is unreachable.',
        response: { 200: ready, 503: unavailable },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      const [postgres, redis] = await Promise.all([
        check(() => ctx.prisma.$queryRaw`SELECT 1`),
        check(() => ctx.redis.ping()),
      ]);
      const checks = { postgres, redis };
      const failedChecks = Object.entries(checks)
        .filter(([, v]) => v === 'failed')
        .map(([k]) => k);
      if (failedChecks.length === 0) return { status: 'ready' as const, checks };
      return reply.status(503).send({
        status: 'unavailable',
        checks,
        error: {
          code: 'GW_UNAVAILABLE',
          message: `Not ready: ${failedChecks.join(' and ')} unreachable`,
        } satisfies ErrorBody['error'],
      });
    },
  );
};
