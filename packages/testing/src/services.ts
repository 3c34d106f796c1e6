import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';

export interface ServiceUrls {
  databaseUrl: string;
  redisUrl: string;
  /** Stops whatever was started for the run (containers); a no-op for services given by URL. */
  stop: () => Promise<void>;
}

const run = promisify(execFile);

async function dockerEngineAvailable(): Promise<boolean> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Service URLs for tests, in order of preference:
 * 1. `TEST_DATABASE_URL` / `DATABASE_URL` and `TEST_REDIS_URL` / `REDIS_URL` from the environment;
 * 2. throwaway containers via testcontainers, when a Docker engine answers;
 * 3. PostgreSQL and Redis already listening on their standard local ports;
 * 4. otherwise a clear error naming what to set.
 */
export async function resolveServiceUrls(): Promise<ServiceUrls> {
  let databaseUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  let redisUrl = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL;
  const stops: Array<() => Promise<unknown>> = [];

  if ((!databaseUrl || !redisUrl) && (await dockerEngineAvailable())) {
    const { GenericContainer, Wait } = await import('testcontainers');
    if (!databaseUrl) {
      const pg = await new GenericContainer('postgres:15-alpine')
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
        .withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
        .start();
      stops.push(() => pg.stop());
      databaseUrl = `postgresql://postgres@${pg.getHost()}:${pg.getMappedPort(5432)}/postgres`;
    }
    if (!redisUrl) {
      const redis = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
      stops.push(() => redis.stop());
      redisUrl = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
    }
  }

  if (!databaseUrl && (await portOpen(5432))) databaseUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';
  if (!redisUrl && (await portOpen(6379))) redisUrl = 'redis://127.0.0.1:6379';

  const missing = [
    !databaseUrl && 'TEST_DATABASE_URL (or DATABASE_URL)',
    !redisUrl && 'TEST_REDIS_URL (or REDIS_URL)',
  ].filter(Boolean);
  if (missing.length > 0 || !databaseUrl || !redisUrl) {
    throw new Error(
      `Tests need PostgreSQL and Redis. Set ${missing.join(' and ')}, or run a Docker engine so testcontainers can start them. ` +
        'On a machine with local services: TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres TEST_REDIS_URL=redis://127.0.0.1:6379',
    );
  }
  return {
    databaseUrl,
    redisUrl,
    stop: async () => {
      await Promise.all(stops.map((s) => s()));
    },
  };
}
