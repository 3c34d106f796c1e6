export { type MonitoringServer, type MonitoringServerOptions, startMonitoringServer } from './http.js';
export { createLogger, REDACT_PATHS } from './logger.js';
export { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
export { accountConnectedProcessor } from './processors/account-connected.js';
export { accountRevokeProcessor } from './processors/account-revoke.js';
export { tokenRefreshProcessor } from './processors/token-refresh.js';
export { type Reconciler, type ReconcilerOptions, startReconciler } from './reconciler.js';
export { missingTables, waitForSchema } from './schema-check.js';
export { type BuiltWorker, buildWorker, type CloseResult, type WorkerDeps } from './worker.js';
