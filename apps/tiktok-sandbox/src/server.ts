import { ConfigError, loadSandboxConfig, type SandboxConfig } from '@ttc/config';
import { startSandbox } from './start.js';

let config: SandboxConfig;
try {
  config = loadSandboxConfig();
} catch (error) {
  // The message names each bad variable and never its value.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

const sandbox = await startSandbox({
  port: config.port,
  host: config.host,
  clientKey: config.clientKey,
  clientSecret: config.clientSecret,
  publicUrl: config.publicUrl,
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
