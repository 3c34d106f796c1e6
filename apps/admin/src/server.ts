import type { EventEmitter } from 'node:events';
import { describeConfig, loadConfigOrExit, loggedError } from '@ttc/config';
import { CLOSE_CONNECTION_DEADLINE_MS, inFlightBudgetMs, shutdownOnSignals } from '@ttc/config/shutdown';
import { parseKeyring } from '@ttc/crypto';
import { createPrismaClient } from '@ttc/db';
import { closeQueuesAndConnections, createQueues, createRedisConnection } from '@ttc/queue';
import { buildAdmin } from './app.js';

const config = loadConfigOrExit({ service: 'admin' });

const prisma = createPrismaClient(config.databaseUrl, {
  poolSize: config.databasePoolSize,
  statementTimeoutMs: config.databaseStatementTimeoutMs,
  preparedStatements: config.databasePreparedStatements,
});
const redis = createRedisConnection(config.redisUrl, 'client', 'admin');
const queueConnection = createRedisConnection(config.redisUrl, 'producer', 'admin');
const queues = createQueues({ connection: queueConnection, prefix: config.queuePrefix });
const keyring = parseKeyring(config.tokenEncryptionKeys);

const app = await buildAdmin({
  config,
  prisma,
  redis,
  queues,
  keyring,
  // Synchronous writes (as the gateway's): pino's default asynchronous writer reordered the last lines at exit.
  logger: { level: config.logLevel, stream: process.stdout },
});
app.log.info(describeConfig(config), 'admin configuration');
// Redis down: each reconnect attempt is one warning in the log; requests meanwhile are answered 503.
for (const emitter of [redis, queueConnection, ...queues.all()] as EventEmitter[]) {
  emitter.on('error', (err: Error) => app.log.warn({ error: loggedError(err) }, 'redis connection error'));
}
await app.listen({ host: config.host, port: config.ports.admin });

// HTTP first (stop taking requests, finish the ones in flight), then queues and Redis, then Postgres.
shutdownOnSignals({
  logger: app.log,
  timeoutMs: config.shutdownTimeoutMs,
  steps: () => [
    {
      title: 'closing the HTTP server',
      deadlineMs: inFlightBudgetMs(config.shutdownTimeoutMs),
      run: () => app.close(),
    },
    {
      title: 'closing queues and Redis connections',
      deadlineMs: CLOSE_CONNECTION_DEADLINE_MS,
      run: () => closeQueuesAndConnections(queues, [redis, queueConnection]),
    },
    { title: 'closing Postgres', deadlineMs: CLOSE_CONNECTION_DEADLINE_MS, run: () => prisma.$disconnect() },
  ],
});
