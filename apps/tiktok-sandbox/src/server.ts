import { ConfigError, loadSandboxConfig, type SandboxConfig } from '@ttc/config';
import { shutdownOnSignals } from '@ttc/config/shutdown';
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
  appName: config.appName,
  publicUrl: config.publicUrl,
  requestTimeoutMs: config.requestTimeoutMs,
  logger: true,
});
// The client key is not a secret; the client secret is never printed.
console.log(
  `TikTok sandbox listening on ${sandbox.url} (authorize: ${sandbox.authUrl}, client_key ${sandbox.clientKey})`,
);

// Plain lines like the one above; the sandbox's requests go to Fastify's own logger.
const print =
  (write: (...data: unknown[]) => void) =>
  (fields: Record<string, unknown>, message: string): void =>
    write(`TikTok sandbox: ${message}`, ...(Object.keys(fields).length > 0 ? [fields] : []));
shutdownOnSignals({
  logger: { info: print(console.log), warn: print(console.error), error: print(console.error) },
  steps: () => [{ title: 'closing the HTTP server', run: () => sandbox.close() }],
});
