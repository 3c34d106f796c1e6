// Entry point: wires the worker's dependencies, then shuts them down in a visible order on SIGTERM / SIGINT.
import { createAccounts } from '@ttc/accounts';
import { describeConfig, loadConfigOrExit, loggedError, tiktokClientOptions } from '@ttc/config';
import {
  CLOSE_CONNECTION_DEADLINE_MS,
  inFlightBudgetMs,
  type ShutdownStep,
  shutdownOnSignals,
} from '@ttc/config/shutdown';
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

const config = loadConfigOrExit({ service: 'worker' });
const logger = createLogger({ level: config.logLevel });
logger.info({ config: describeConfig(config) }, 'starting worker');

const prisma = createPrismaClient(config.databaseUrl, {
  poolSize: config.databasePoolSize,
  statementTimeoutMs: config.databaseStatementTimeoutMs,
  preparedStatements: config.databasePreparedStatements,
});
const keyring = parseKeyring(config.tokenEncryptionKeys);
const workerConnection = createRedisConnection(config.redisUrl, 'worker', 'worker');
const redis = createRedisConnection(config.redisUrl, 'client', 'worker');
// Not on a request path: the reconciler adds jobs 5,000 at a time (one MULTI), which may take more than 2 s.
const producer = createRedisConnection(config.redisUrl, 'producer', 'worker', { commandTimeout: 60_000 });
const redisConnections = [workerConnection, redis, producer];
for (const connection of redisConnections) {
  connection.on('error', (err) => logger.warn({ error: loggedError(err) }, 'redis connection error'));
}
const queues = createQueues({ connection: producer, prefix: config.queuePrefix });
for (const queue of queues.all()) {
  queue.on('error', (err) => logger.warn({ error: loggedError(err) }, 'redis connection error'));
}
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
            // Jobs given up on (put back in the queue for another worker) make the exit code say "forced".
            return { forced: result.forced };
          },
        }
      : { title: 'no workers were started', run: () => undefined },
    {
      title: 'closing queues and Redis connections',
      deadlineMs: CLOSE_CONNECTION_DEADLINE_MS,
      run: () => closeQueuesAndConnections(queues, redisConnections),
    },
    // Its own deadline: it waits for every statement still running, and an abandoned job's may wait on a row lock.
    { title: 'closing Postgres', deadlineMs: CLOSE_CONNECTION_DEADLINE_MS, run: () => prisma.$disconnect() },
  ];
}
const shutdown = shutdownOnSignals({ logger, timeoutMs: config.shutdownTimeoutMs, steps: shutdownSteps });

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
    // In-flight jobs get what the stop leaves after closing Redis and Postgres; then they go back to the queue.
    closeTimeoutMs: inFlightBudgetMs(config.shutdownTimeoutMs),
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
