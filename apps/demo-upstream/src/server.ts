// `pnpm dev` starts this with the other apps: the demo upstream app on http://localhost:5173.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemoApp } from './app.js';

const env = process.env;
const port = Number(env.DEMO_PORT ?? 5173);
const host = env.HOST ?? '127.0.0.1';
const gatewayUrl = env.PUBLIC_GATEWAY_URL ?? `http://localhost:${env.GATEWAY_PORT ?? 3000}`;
// Development: the gateway's generated key, from the same file the gateway reads (DEV_SECRETS_FILE).
const secretsFile =
  env.DEV_SECRETS_FILE ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '.dev', 'secrets.json');

function apiKey(): string {
  if (env.GATEWAY_API_KEY) return env.GATEWAY_API_KEY;
  const key = (JSON.parse(readFileSync(secretsFile, 'utf8')) as { gatewayApiKey?: string }).gatewayApiKey;
  if (!key) throw new Error(`no GATEWAY_API_KEY set and no gatewayApiKey in ${secretsFile}`);
  return key;
}

const app = await buildDemoApp({
  gatewayUrl,
  apiKey,
  publicUrl: env.DEMO_PUBLIC_URL ?? `http://localhost:${port}`,
  userId: env.DEMO_USER_ID ?? 'demo-user',
  // One of the gateway's WEBHOOK_SECRETS (pnpm dev sets both).
  webhookSecret: env.DEMO_WEBHOOK_SECRET ?? env.WEBHOOK_SECRETS?.split(',')[0],
  logger: { level: env.LOG_LEVEL ?? 'info' },
});
await app.listen({ port, host });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info(`${signal}: closing`);
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
