export {
  CONNECT_SESSION_RETENTION_SECONDS,
  type ConnectResult,
  connectResult,
  connectSessionTombstoneKey,
  eraseUserConnectSessions,
  indexUserConnectSession,
  MAX_CONNECT_SESSION_FIELDS,
  parseConnectResult,
  readConnectResult,
  recordConnectResult,
  recordConnectSessionField,
  userConnectSessionsIndexKey,
} from './connect-results.js';
export {
  createRedisConnection,
  duplicateRedisConnection,
  isRedisClusterUrl,
  parseRedisClusterUrl,
  REDIS_CLUSTER_URL,
  REDIS_COMMAND_TIMEOUT_MS,
  type RedisClient,
  type RedisClusterAddress,
  type RedisRole,
  redisOptionsFor,
} from './connection.js';
export { type JobPresence, jobPresence } from './job-states.js';
export {
  ALL_QUEUE_NAMES,
  accountIdOfRefreshJob,
  connectSessionKey,
  jobIds,
  type QueueName,
  QueueNames,
  reconcileLockKey,
  reconcileMarkKey,
  refreshLockKey,
  userConnectSessionsKey,
} from './names.js';
export {
  type AccountConnectedPayload,
  type AccountRevokePayload,
  accountConnectedPayload,
  accountRevokePayload,
  describePayloadIssues,
  type TokenRefreshJobData,
  type TokenRefreshPayload,
  tokenRefreshPayload,
  type WebhookDeliverPayload,
  webhookDeliverPayload,
} from './payloads.js';
export { enqueueAccountConnected, enqueueAccountRevoke, enqueueWebhookDeliveries } from './producers.js';
export {
  type CreateQueuesOptions,
  closeQueuesAndConnections,
  createQueues,
  defaultJobOptions,
  type Queues,
  tokenRefreshWorkerOptions,
} from './queues.js';
export { isRedisUnavailable, RedisTimeoutError, withRedisDeadline } from './unavailable.js';
export { stalledJobPickupBoundMs, workerLockSettings } from './worker-settings.js';
