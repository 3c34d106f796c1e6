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
import { withRedisDeadline } from './unavailable.js';

/**
 * Bound of one enqueue. Commands are bounded by the connection's command timeout, but BullMQ first waits for its
 * connection's first `ready` without one (a process started while Redis was down): never longer than this.
 */
const ENQUEUE_DEADLINE_MS = 4_000;

/**
 * Enqueues `account.connected`. The payload is validated with the same schema the worker uses, so a producer bug
 * fails here, in the request that caused it, and not later in a retry loop.
 */
export async function enqueueAccountConnected(
  queues: Queues,
  payload: AccountConnectedPayload,
): Promise<Job<AccountConnectedPayload>> {
  const data = accountConnectedPayload.parse(payload);
  return withRedisDeadline(
    queues.accountConnected.add(QueueNames.accountConnected, data, {
      jobId: jobIds.accountConnected(data.connectionId),
    }),
    ENQUEUE_DEADLINE_MS,
    'enqueue account.connected',
  );
}

/** Enqueues the revoke of an account's access token at TikTok, once per token version. */
export async function enqueueAccountRevoke(
  queues: Queues,
  payload: AccountRevokePayload,
  tokenVersion: number,
): Promise<Job<AccountRevokePayload>> {
  const data = accountRevokePayload.parse(payload);
  return withRedisDeadline(
    queues.accountRevoke.add(QueueNames.accountRevoke, data, {
      jobId: jobIds.accountRevoke(data.accountId, tokenVersion),
    }),
    ENQUEUE_DEADLINE_MS,
    'enqueue account.revoke',
  );
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
  await withRedisDeadline(
    queues.webhookDeliver.addBulk(
      deliveryIds.map((deliveryId) => ({
        name: QueueNames.webhookDeliver,
        data: { deliveryId } satisfies WebhookDeliverPayload,
        opts: { jobId: jobIds.webhookDeliver(deliveryId), delay: delayMs(deliveryId) },
      })),
    ),
    ENQUEUE_DEADLINE_MS,
    'enqueue webhook.deliver',
  );
}
