import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import type { ErrorBody } from '../errors.js';

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

/** `GET /healthz` (the process answers) and `GET /readyz` (Postgres and Redis answer too). */
export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get('/healthz', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    const [postgres, redis] = await Promise.all([
      check(() => ctx.prisma.$queryRaw`SELECT 1`),
      check(() => ctx.redis.ping()),
    ]);
    const checks = { postgres, redis };
    const failedChecks = Object.entries(checks)
      .filter(([, v]) => v === 'failed')
      .map(([k]) => k);
    if (failedChecks.length === 0) return { status: 'ready', checks };
    return reply.status(503).send({
      status: 'unavailable',
      checks,
      error: {
        code: 'GW_UNAVAILABLE',
        message: `Not ready: ${failedChecks.join(' and ')} unreachable`,
      } satisfies ErrorBody['error'],
    });
  });
};
