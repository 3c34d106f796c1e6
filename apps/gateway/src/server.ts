import { describeConfig, loadConfig, tiktokClientOptions } from '@ttc/config';
import { parseKeyring } from '@ttc/crypto';
import { createPrismaClient } from '@ttc/db';
import { createQueues, createRedisConnection } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { buildGateway } from './app.js';

// Entry point: wires clients, listens, and shuts down in order (HTTP server, then Redis, then Prisma).
const config = loadConfig({ service: 'gateway' });
const prisma = createPrismaClient(config.databaseUrl, { poolSize: config.databasePoolSize });
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

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    app.log.error('shutdown took too long, exiting');
    process.exit(1);
  }, 15_000);
  force.unref();
  try {
    await app.close();
    await queues.close();
    await Promise.allSettled([producer.quit(), redis.quit()]);
    await prisma.$disconnect();
    process.exit(0);
  } catch (error) {
    app.log.error({ err: error }, 'error during shutdown');
    process.exit(1);
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

try {
  await app.listen({ host: config.host, port: config.ports.gateway });
  app.log.info(describeConfig(config), 'gateway started');
  if (config.env === 'development') {
    app.log.info(`Open ${config.publicGatewayUrl}/dev to try the connect page with a demo user`);
  }
} catch (error) {
  app.log.error({ err: error }, 'gateway failed to start');
  await Promise.allSettled([queues.close(), producer.quit(), redis.quit(), prisma.$disconnect()]);
  process.exit(1);
}
