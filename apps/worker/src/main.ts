// Entry point: wires the worker's dependencies, then shuts them down in a visible order on SIGTERM / SIGINT.
import { createAccounts } from '@ttc/accounts';
import { describeConfig, loadConfig, tiktokClientOptions } from '@ttc/config';
import { type ShutdownStep, shutdownOnSignals } from '@ttc/config/shutdown';
import { parseKeyring } from '@ttc/crypto';
import { createPrismaClient } from '@ttc/db';
import { closeQueuesAndConnections, createQueues, createRedisConnection } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { createWebhookDeliverer } from '@ttc/webhooks';
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
  requestTimeoutMs: config.requestTimeoutMs,
  metricsToken: config.metricsToken,
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
  lifecycle: {
    tiktokTimeoutMs: config.tiktok.timeoutMs,
    activeWindowMs: config.refreshPolicy.activeWindowHours * 3_600_000,
    idleRefreshEveryMs: config.refreshPolicy.idleEveryDays * 86_400_000,
  },
  webhooks: { endpoints: config.webhooks.urls },
});
const webhooks = createWebhookDeliverer({
  prisma,
  queues,
  redis,
  endpoints: config.webhooks.urls,
  secrets: config.webhooks.secrets,
  logger,
});

let built: ReturnType<typeof buildWorker> | undefined;
let reconciler: Reconciler | undefined;

// Stop answering health checks, let the jobs in flight finish, then close what they were using.
function shutdownSteps(): ShutdownStep[] {
  const running = built;
  return [
    {
      title: 'closing the metrics and health server',
      run: () => {
        monitoring.markNotReady('shutting down');
        return monitoring.close();
      },
    },
    running
      ? {
          title: 'stopping workers, waiting for in-flight jobs',
          fields: () => ({ inFlight: running.inFlight() }),
          run: async () => {
            await reconciler?.stop();
            const result = await running.close();
            logger.info(result, result.forced ? 'workers force-closed' : 'workers closed');
          },
        }
      : { title: 'no workers were started', run: () => undefined },
    { title: 'closing queues and Redis connections', run: () => closeQueuesAndConnections(queues, redisConnections) },
    { title: 'closing Postgres', run: () => prisma.$disconnect() },
  ];
}
const shutdown = shutdownOnSignals({ logger, steps: shutdownSteps });

// Jobs taken before the tables exist would only burn their retries; wait for `pnpm db:migrate` instead.
await waitForSchema(prisma, logger, shutdown.closing);
schemaReady = true;
if (!shutdown.closing()) {
  built = buildWorker({
    accounts,
    webhooks,
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
    webhooks,
    intervalMs: config.reconcileIntervalSeconds * 1000,
    logger,
    metrics,
    eventRetentionDays: config.eventRetentionDays,
  });
}
