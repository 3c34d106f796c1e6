export {
  type AppConfig,
  type ConfigVariable,
  DEFAULT_TIKTOK_API_URL,
  DEFAULT_TIKTOK_AUTH_URL,
  DEFAULT_TIKTOK_SCOPES,
  describeConfig,
  type LoadConfigOptions,
  loadConfig,
  SANDBOX_CLIENT_KEY,
  SANDBOX_CLIENT_SECRET,
  type ServiceName,
  tiktokClientOptions,
} from './config.js';
export { type DevSecrets, defaultDevSecretsFile, loadDevSecrets } from './dev-secrets.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export { loadSandboxConfig, type SandboxConfig } from './sandbox.js';
