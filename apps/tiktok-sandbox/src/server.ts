import { z } from 'zod';
import { startSandbox } from './start.js';

// TEMPORARY: the sandbox reads its own SANDBOX_* variables through this tiny schema because @ttc/config was being
// written at the same time. Move this to @ttc/config (the only place that should read process.env) when it lands.
const env = z
  .object({
    SANDBOX_PORT: z.coerce.number().int().min(0).max(65_535).default(3999),
    SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
    SANDBOX_CLIENT_KEY: z.string().min(1).optional(),
    SANDBOX_CLIENT_SECRET: z.string().min(1).optional(),
    SANDBOX_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  })
  .safeParse(process.env);

if (!env.success) {
  const names = [...new Set(env.error.issues.map((i) => String(i.path[0])))].join(', ');
  console.error(`Missing or invalid env vars: ${names}`);
  process.exit(1);
}

const config = env.data;
const sandbox = await startSandbox({
  port: config.SANDBOX_PORT,
  host: config.SANDBOX_HOST,
  clientKey: config.SANDBOX_CLIENT_KEY,
  clientSecret: config.SANDBOX_CLIENT_SECRET,
  publicUrl: config.SANDBOX_PUBLIC_URL,
  logger: true,
});
// The client key is not a secret; the client secret is never printed.
console.log(
  `TikTok sandbox listening on ${sandbox.url} (authorize: ${sandbox.authUrl}, client_key ${sandbox.clientKey})`,
);

let closing = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (closing) return;
  closing = true;
  console.log(`TikTok sandbox: ${signal} received, closing`);
  try {
    await sandbox.close();
    process.exit(0);
  } catch (error) {
    console.error('TikTok sandbox: close failed', error);
    process.exit(1);
  }
}
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
