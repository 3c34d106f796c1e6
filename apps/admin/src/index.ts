export { type AdminDeps, buildAdmin, REDACTED_LOG_PATHS } from './app.js';
export { AdminErrorCode } from './errors.js';
export { DEFAULT_LIMITS, type QueryLimits } from './graphql/limits.js';
export { schema } from './graphql/plugin.js';
