export {
  type AppConfig,
  CONFIG_DEFAULTS,
  CONFIG_VARIABLES,
  type ConfigVariable,
  DEFAULT_TIKTOK_API_URL,
  DEFAULT_TIKTOK_AUTH_URL,
  DEFAULT_TIKTOK_SCOPES,
  describeConfig,
  type GatewayApiKey,
  type LoadConfigOptions,
  loadConfig,
  loadConfigOrExit,
  parseGatewayApiKeys,
  SANDBOX_CLIENT_KEY,
  SANDBOX_CLIENT_SECRET,
  type ServiceName,
  serverTimeouts,
  tiktokClientOptions,
} from './config.js';
export { type DevSecrets, defaultDevSecretsFile, loadDevSecrets } from './dev-secrets.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export { type LoggedError, loggedError } from './log.js';
export { loadSandboxConfig, SANDBOX_CONFIG_VARIABLES, type SandboxConfig } from './sandbox.js';
