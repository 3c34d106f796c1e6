import { ConfigError, describeConfig, loadConfig } from '@ttc/config';
import { parseKeyring } from '@ttc/crypto';
import { createPrismaClient } from '@ttc/db';
import { createQueues, createRedisConnection } from '@ttc/queue';
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

const prisma = createPrismaClient(config.databaseUrl, { poolSize: config.databasePoolSize });
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

let closing = false;
/** HTTP first (stop taking requests, finish the ones in flight), then Redis, then Postgres. */
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'admin shutting down');
  const force = setTimeout(() => {
    app.log.error('shutdown took longer than 10 s, exiting');
    process.exit(1);
  }, 10_000);
  force.unref();
  let code = 0;
  for (const [name, step] of [
    ['http', () => app.close()],
    ['queues', () => queues.close()],
    [
      'redis',
      async () => {
        await Promise.allSettled([redis.quit(), queueConnection.quit()]);
      },
    ],
    ['postgres', () => prisma.$disconnect()],
  ] as const) {
    try {
      await step();
    } catch (error) {
      code = 1;
      app.log.error({ err: error, step: name }, 'shutdown step failed');
    }
  }
  process.exit(code);
}
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
