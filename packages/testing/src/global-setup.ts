import { resolveServiceUrls } from './services.js';

/**
 * Vitest global setup: decide once which Postgres and Redis the tests use and export them as
 * TEST_DATABASE_URL / TEST_REDIS_URL for every test worker (workers inherit this process's env).
 */
export default async function setup(): Promise<() => Promise<void>> {
  const services = await resolveServiceUrls();
  process.env.TEST_DATABASE_URL = services.databaseUrl;
  process.env.TEST_REDIS_URL = services.redisUrl;
  return services.stop;
}
