// Entry point: wires the worker's dependencies, then shuts them down in a visible order on SIGTERM / SIGINT.
import { createAccounts } from '@ttc/accounts';
import { describeConfig, loadConfig, tiktokClientOptions } from '@ttc/config';
import { parseKeyring } from '@ttc/crypto';
import { createPrismaClient } from '@ttc/db';
import { createQueues, createRedisConnection } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { startMonitoringServer } from './http.js';
import { createLogger } from './logger.js';
import { createWorkerMetrics } from './metrics.js';
import { type Reconciler, startReconciler } from './reconciler.js';
import { missingTables, waitForSchema } from './schema-check.js';
import { buildWorker } from './worker.js';

const config = loadConfig({ service: 'worker' });
const logger = createLogger({ level: config.logLevel });
logger.info({ config: describeConfig(config) }, 'starting worker');

const prisma = createPrismaClient(config.databaseUrl, { poolSize: config.databasePoolSize });
const keyring = parseKeyring(config.tokenEncryptionKeys);
const workerConnection = createRedisConnection(config.redisUrl, 'worker', 'worker');
const redis = createRedisConnection(config.redisUrl, 'client', 'worker');
const producer = createRedisConnection(config.redisUrl, 'producer', 'worker');
const redisConnections = [workerConnection, redis, producer];
for (const connection of redisConnections) {
  connection.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection error'));
}
const queues = createQueues({ connection: producer, prefix: config.queuePrefix });
const metrics = createWorkerMetrics();

let schemaReady = false;
const monitoring = await startMonitoringServer({
  host: config.host,
  port: config.ports.workerMetrics,
  registry: metrics.registry,
  logger,
  checks: {
    postgres: async () => {
      await prisma.$queryRaw`SELECT 1`;
      if (!schemaReady && (await missingTables(prisma)).length > 0) throw new Error('tables missing');
    },
    redis: async () => {
      await redis.ping();
    },
  },
});
logger.info({ url: monitoring.url }, 'metrics and health endpoints listening');

const accounts = createAccounts({
  prisma,
  keyring,
  redis,
  queues,
  queuePrefix: config.queuePrefix,
  logger,
  refreshLeadSeconds: config.refreshLeadSeconds,
  tiktok: createTikTokClient(tiktokClientOptions(config.tiktok)),
  lifecycle: { tiktokTimeoutMs: config.tiktok.timeoutMs },
});

let built: ReturnType<typeof buildWorker> | undefined;
let reconciler: Reconciler | undefined;
let shuttingDown = false;

async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  shuttingDown = true;
  const started = Date.now();
  logger.info({ signal }, 'shutdown 1/4: closing the metrics and health server');
  monitoring.markNotReady('shutting down');
  await monitoring.close().catch((err: unknown) => logger.error({ err }, 'closing the HTTP server failed'));

  if (reconciler) {
    await reconciler.stop().catch((err: unknown) => logger.error({ err }, 'stopping the reconciler failed'));
  }
  if (built) {
    logger.info({ inFlight: built.inFlight() }, 'shutdown 2/4: stopping workers, waiting for in-flight jobs');
    const result = await built.close();
    logger.info(result, result.forced ? 'workers force-closed' : 'workers closed');
  } else {
    logger.info('shutdown 2/4: no workers were started');
  }

  logger.info('shutdown 3/4: closing queues and Redis connections');
  await queues.close().catch((err: unknown) => logger.error({ err }, 'closing queues failed'));
  await Promise.all(redisConnections.map((c) => c.quit().catch(() => c.disconnect())));

  logger.info('shutdown 4/4: closing Postgres');
  await prisma.$disconnect().catch((err: unknown) => logger.error({ err }, 'closing Postgres failed'));
  logger.info({ ms: Date.now() - started }, 'shutdown complete');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

// Jobs taken before the tables exist would only burn their retries; wait for `pnpm db:migrate` instead.
await waitForSchema(prisma, logger, () => shuttingDown);
schemaReady = true;
if (!shuttingDown) {
  built = buildWorker({
    accounts,
    connection: workerConnection,
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    logger,
    metrics,
  });
  logger.info(
    { queues: built.workers.map((w) => w.name), concurrency: config.workerConcurrency, prefix: config.queuePrefix },
    'worker started',
  );
  // At start (Redis may have lost everything while we were down) and then periodically.
  reconciler = startReconciler({
    accounts,
    intervalMs: config.reconcileIntervalSeconds * 1000,
    logger,
    metrics,
  });
}
