import { ConfigError, describeConfig, loadConfig } from '@ttc/config';
import { shutdownOnSignals } from '@ttc/config/shutdown';
import { parseKeyring } from '@ttc/crypto';
import { createPrismaClient } from '@ttc/db';
import { closeQueuesAndConnections, createQueues, createRedisConnection } from '@ttc/queue';
import { buildAdmin } from './app.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig({ service: 'admin' });
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const prisma = createPrismaClient(config.databaseUrl, {
  poolSize: config.databasePoolSize,
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
  logger: { level: config.logLevel },
});
app.log.info(describeConfig(config), 'admin configuration');
await app.listen({ host: config.host, port: config.ports.admin });

// HTTP first (stop taking requests, finish the ones in flight), then queues and Redis, then Postgres.
shutdownOnSignals({
  logger: app.log,
  timeoutMs: 10_000,
  steps: () => [
    { title: 'closing the HTTP server', run: () => app.close() },
    {
      title: 'closing queues and Redis connections',
      run: () => closeQueuesAndConnections(queues, [redis, queueConnection]),
    },
    { title: 'closing Postgres', run: () => prisma.$disconnect() },
  ],
});
