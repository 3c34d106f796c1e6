export {
  type ConnectResult,
  connectResult,
  readConnectResult,
  recordConnectResult,
} from './connect-results.js';
export { createRedisConnection, type RedisRole } from './connection.js';
export { type JobPresence, jobPresence } from './job-states.js';
export {
  ALL_QUEUE_NAMES,
  connectSessionKey,
  jobIds,
  type QueueName,
  QueueNames,
  reconcileLockKey,
  refreshLockKey,
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
} from './queues.js';
