/**
 * Signed webhooks (Standard Webhooks) from the transactional outbox: the event types and body, signing, one HTTP
 * attempt ({@link sendWebhook}), the SQL that records events inside the account service's statements
 * ({@link accountEventOutbox}, {@link userErasedStatement}), and the worker's side ({@link createWebhookDeliverer}:
 * deliver, sweep, redeliver).
 */
export {
  createWebhookDeliverer,
  DELIVERY_COLUMNS,
  type DeliveryOutcome,
  type DeliveryResult,
  defaultWebhookRetry,
  type SweepReport,
  type WebhookDeliverer,
  type WebhookDelivererLogger,
  type WebhookDelivererOptions,
  type WebhookDeliveryRow,
  type WebhookRetrySettings,
  webhookRetryDelayMs,
} from './deliveries.js';
export {
  type AccountWebhookData,
  type UserErasedWebhookData,
  WEBHOOK_EVENT_TYPES,
  type WebhookActor,
  type WebhookBody,
  type WebhookEventType,
} from './events.js';
export { accountEventOutbox, type OutboxSql, userErasedStatement } from './outbox.js';
export { type SendOptions, type SendResult, sendWebhook } from './send.js';
export { secretKey, signatureHeader } from './sign.js';
