import { describePayloadIssues, webhookDeliverPayload } from '@ttc/queue';
import type { DeliveryResult, WebhookDeliverer } from '@ttc/webhooks';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { WorkerMetrics } from '../metrics.js';

/**
 * `webhook.deliver`: one attempt of one delivery (event × endpoint), whose id is the whole payload; the deliverer
 * reads the event from the outbox, signs, POSTs and writes the attempt to the delivery log.
 *
 * A failed attempt moves the job to delayed at the `nextAttemptAt` the deliverer wrote to the log (`moveToDelayed` +
 * `DelayedError`), rather than using BullMQ's attempts: the retries then last a duration (the retry window, days),
 * not a count, and the log shows exactly when the next one runs. BullMQ's attempts remain the net for unexpected
 * errors (database down), after which the sweeper replaces the failed job.
 */
export function webhookDeliverProcessor(
  deliverer: WebhookDeliverer,
  metrics?: WorkerMetrics,
): (job: Job, token?: string) => Promise<DeliveryResult> {
  return async (job, token) => {
    const parsed = webhookDeliverPayload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(describePayloadIssues('webhook.deliver', parsed.error.issues));
    const outcome = await deliverer.deliver(parsed.data.deliveryId);
    const type = outcome.type ?? 'unknown';
    metrics?.webhookDeliveries.inc({ type, result: outcome.result });
    if (outcome.send) metrics?.webhookDeliveryDuration.observe({ type }, outcome.send.latencyMs / 1000);
    if (outcome.result !== 'retry' || !outcome.nextAttemptAt || !token) return outcome.result;
    await job.moveToDelayed(outcome.nextAttemptAt.getTime(), token);
    throw new DelayedError();
  };
}
