import { loggedError } from '@ttc/config';
import type { Prisma } from '@ttc/db';
import { enqueueWebhookDeliveries, type Queues } from '@ttc/queue';
import { userErasedStatement } from '@ttc/webhooks';
import type { AccountsLogger } from './deps.js';

/**
 * The account service's side of the webhook outbox. Events are recorded by the statements that change accounts
 * (`accountEventOutbox` from @ttc/webhooks, placed in `applyConnection`, the fenced lifecycle writes and
 * `disconnectAccount`); this object knows the configured endpoints and enqueues the deliveries after the commit.
 */
export interface AccountsOutbox {
  /** `WEBHOOK_URLS`. Empty: nothing is recorded. */
  readonly endpoints: readonly string[];
  /**
   * Records `user.erased` (`data: { userId, erasedAccounts, occurredAt }`) in the erasure's transaction `tx`, after
   * removing the user's earlier webhook events; returns the delivery ids to {@link enqueue} after the commit.
   */
  recordUserErased(
    tx: Prisma.TransactionClient,
    p: { userId: string; erasedAccounts: number; at: Date },
  ): Promise<string[]>;
  /**
   * Enqueues deliveries recorded by a committed change. Never throws: if Redis refuses, the sweeper enqueues them
   * (the outbox in Postgres is the truth).
   */
  enqueue(deliveryIds: readonly string[]): Promise<void>;
}

export function createAccountsOutbox(o: {
  endpoints: readonly string[];
  queues: Queues;
  logger?: AccountsLogger | undefined;
}): AccountsOutbox {
  return {
    endpoints: o.endpoints,
    async recordUserErased(tx, p) {
      const [row] = await tx.$queryRaw<{ ids: string[] }[]>(userErasedStatement(o.endpoints, p));
      return row?.ids ?? [];
    },
    async enqueue(deliveryIds) {
      if (deliveryIds.length === 0) return;
      try {
        await enqueueWebhookDeliveries(o.queues, deliveryIds);
      } catch (err) {
        o.logger?.warn(
          { error: loggedError(err), deliveries: deliveryIds.length },
          'could not enqueue webhook deliveries; the sweeper will',
        );
      }
    },
  };
}
