export { type MonitoringServer, type MonitoringServerOptions, startMonitoringServer } from './http.js';
export { createLogger, REDACT_PATHS } from './logger.js';
export { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
export { accountConnectedProcessor } from './processors/account-connected.js';
export { missingTables, waitForSchema } from './schema-check.js';
export { type BuiltWorker, buildWorker, type CloseResult, type WorkerDeps } from './worker.js';
