import type { Accounts } from '@ttc/accounts';
import type { Queues } from '@ttc/queue';
import type { WebhookDeliverer } from '@ttc/webhooks';
import type { AccountsRepository } from './repository.js';
import type { WebhookDeliveriesRepository } from './webhook-repository.js';

/** What every resolver and loader gets, built once per request (cheap: it only holds references). */
export interface AdminContext {
  repo: AccountsRepository;
  accounts: Accounts;
  queues: Queues;
  /** The webhook delivery log. */
  webhookLog: WebhookDeliveriesRepository;
  /** The delivery log's actions (`redeliverWebhook`). */
  webhooks: WebhookDeliverer;
}

declare module 'mercurius' {
  interface MercuriusContext extends AdminContext {}
}
