import { loggedError } from '@ttc/config';
import type { PrismaClient } from '@ttc/db';
import type { RedisClient } from '@ttc/queue';
import type { FastifyInstance } from 'fastify';

export interface HealthOptions {
  prisma: PrismaClient;
  redis: RedisClient;
  /** How long a dependency may take to answer before it counts as down. */
  timeoutMs?: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** GET /healthz (the process answers) and GET /readyz (Postgres and Redis answer too; 503 otherwise). */
export async function healthPlugin(app: FastifyInstance, options: HealthOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    const check = async (name: string, probe: () => Promise<unknown>) => {
      try {
        await withTimeout(probe(), timeoutMs);
        return [name, 'ok'] as const;
      } catch (error) {
        request.log.warn({ error: loggedError(error), dependency: name }, 'readiness check failed');
        return [name, 'down'] as const;
      }
    };
    const checks = Object.fromEntries(
      await Promise.all([
        check('postgres', () => options.prisma.$queryRaw`SELECT 1`),
        check('redis', async () => {
          // A connection that is reconnecting would queue the PING; it is not ready now, whatever comes later.
          if (options.redis.status !== 'ready') throw new Error(`redis connection is ${options.redis.status}`);
          return options.redis.ping();
        }),
      ]),
    );
    const ready = Object.values(checks).every((v) => v === 'ok');
    reply.code(ready ? 200 : 503).header('cache-control', 'no-store');
    return { status: ready ? 'ready' : 'unavailable', checks };
  });
}
