import type { EventEmitter } from 'node:events';
import { describeConfig, loadConfigOrExit, loggedError, tiktokClientOptions } from '@ttc/config';
import {
  CLOSE_CONNECTION_DEADLINE_MS,
  inFlightBudgetMs,
  runShutdownSteps,
  type ShutdownStep,
  shutdownOnSignals,
} from '@ttc/config/shutdown';
import { parseKeyring } from '@ttc/crypto';
import { createPrismaClient } from '@ttc/db';
import { closeQueuesAndConnections, createQueues, createRedisConnection } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { buildGateway } from './app.js';

// Entry point: wires clients, listens, and shuts down in order.
const config = loadConfigOrExit({ service: 'gateway' });
const prisma = createPrismaClient(config.databaseUrl, {
  poolSize: config.databasePoolSize,
  statementTimeoutMs: config.databaseStatementTimeoutMs,
  preparedStatements: config.databasePreparedStatements,
});
const redis = createRedisConnection(config.redisUrl, 'client', 'gateway');
const producer = createRedisConnection(config.redisUrl, 'producer', 'gateway');
const queues = createQueues({ connection: producer, prefix: config.queuePrefix });
const tiktok = createTikTokClient(tiktokClientOptions(config.tiktok));
const app = await buildGateway({
  config,
  prisma,
  redis,
  queues,
  tiktok,
  keyring: parseKeyring(config.tokenEncryptionKeys),
});

// Redis down: each reconnect attempt is one warning in the log (not ioredis's "Unhandled error event" on stderr);
// requests meanwhile are answered 503.
for (const emitter of [redis, producer, ...queues.all()] as EventEmitter[]) {
  emitter.on('error', (err: Error) => app.log.warn({ error: loggedError(err) }, 'redis connection error'));
}

// HTTP first (stop taking requests, finish the ones in flight), then queues and Redis, then Postgres; each step with
// its deadline, the whole stop within SHUTDOWN_TIMEOUT_MS.
const closeSteps = (): ShutdownStep[] => [
  { title: 'closing the HTTP server', deadlineMs: inFlightBudgetMs(config.shutdownTimeoutMs), run: () => app.close() },
  {
    title: 'closing queues and Redis connections',
    deadlineMs: CLOSE_CONNECTION_DEADLINE_MS,
    run: () => closeQueuesAndConnections(queues, [producer, redis]),
  },
  { title: 'closing Postgres', deadlineMs: CLOSE_CONNECTION_DEADLINE_MS, run: () => prisma.$disconnect() },
];
shutdownOnSignals({ logger: app.log, timeoutMs: config.shutdownTimeoutMs, steps: closeSteps });

try {
  await app.listen({ host: config.host, port: config.ports.gateway });
  app.log.info(describeConfig(config), 'gateway started');
  if (config.env === 'development' && config.envExplicit) {
    app.log.info(`Open ${config.publicGatewayUrl}/dev to try the connect page with a demo user`);
  }
} catch (error) {
  app.log.error({ err: error }, 'gateway failed to start');
  await runShutdownSteps(closeSteps(), app.log);
  process.exit(1);
}
