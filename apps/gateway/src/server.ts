import { describeConfig, loadConfig, tiktokClientOptions } from '@ttc/config';
import { runShutdownSteps, type ShutdownStep, shutdownOnSignals } from '@ttc/config/shutdown';
import { parseKeyring } from '@ttc/crypto';
import { createPrismaClient } from '@ttc/db';
import { closeQueuesAndConnections, createQueues, createRedisConnection } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { buildGateway } from './app.js';

// Entry point: wires clients, listens, and shuts down in order.
const config = loadConfig({ service: 'gateway' });
const prisma = createPrismaClient(config.databaseUrl, {
  poolSize: config.databasePoolSize,
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

// HTTP first (stop taking requests, finish the ones in flight), then queues and Redis, then Postgres.
const closeSteps = (): ShutdownStep[] => [
  { title: 'closing the HTTP server', run: () => app.close() },
  { title: 'closing queues and Redis connections', run: () => closeQueuesAndConnections(queues, [producer, redis]) },
  { title: 'closing Postgres', run: () => prisma.$disconnect() },
];
shutdownOnSignals({ logger: app.log, timeoutMs: 15_000, steps: closeSteps });

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
