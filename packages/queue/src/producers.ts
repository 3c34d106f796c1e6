import type { Job } from 'bullmq';
import { jobIds, QueueNames } from './names.js';
import {
  type AccountConnectedPayload,
  type AccountRevokePayload,
  accountConnectedPayload,
  accountRevokePayload,
  type WebhookDeliverPayload,
} from './payloads.js';
import type { Queues } from './queues.js';

/**
 * Enqueues `account.connected`. The payload is validated with the same schema the worker uses, so a producer bug
 * fails here, in the request that caused it, and not later in a retry loop.
 */
export async function enqueueAccountConnected(
  queues: Queues,
  payload: AccountConnectedPayload,
): Promise<Job<AccountConnectedPayload>> {
  const data = accountConnectedPayload.parse(payload);
  return queues.accountConnected.add(QueueNames.accountConnected, data, {
    jobId: jobIds.accountConnected(data.connectionId),
  });
}

/** Enqueues the revoke of an account's access token at TikTok, once per token version. */
export async function enqueueAccountRevoke(
  queues: Queues,
  payload: AccountRevokePayload,
  tokenVersion: number,
): Promise<Job<AccountRevokePayload>> {
  const data = accountRevokePayload.parse(payload);
  return queues.accountRevoke.add(QueueNames.accountRevoke, data, {
    jobId: jobIds.accountRevoke(data.accountId, tokenVersion),
  });
}

/**
 * Enqueues one `webhook.deliver` job per delivery id, due after `delayMs` (default at once). Idempotent: a delivery
 * whose job exists keeps it (deterministic job ids).
 */
export async function enqueueWebhookDeliveries(
  queues: Queues,
  deliveryIds: readonly string[],
  delayMs: (deliveryId: string) => number = () => 0,
): Promise<void> {
  if (deliveryIds.length === 0) return;
  await queues.webhookDeliver.addBulk(
    deliveryIds.map((deliveryId) => ({
      name: QueueNames.webhookDeliver,
      data: { deliveryId } satisfies WebhookDeliverPayload,
      opts: { jobId: jobIds.webhookDeliver(deliveryId), delay: delayMs(deliveryId) },
    })),
  );
}
