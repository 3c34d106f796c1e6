import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The worker's Prometheus metrics, in their own registry (tests build several side by side). */
export interface WorkerMetrics {
  registry: Registry;
  /** Jobs that completed, per queue. */
  jobsProcessed: Counter<'queue'>;
  /** Job attempts that threw, per queue; `retry` says whether BullMQ will try again. */
  jobsFailed: Counter<'queue' | 'retry'>;
  /** Processing time of each attempt, per queue and status (`completed`, `failed`). */
  jobDuration: Histogram<'queue' | 'status'>;
  /** Refresh attempts by result (`refreshed`, `not_due`, `failed`, `reauth_required`, ...) and reason. */
  refreshOutcomes: Counter<'result' | 'reason'>;
  /** ACTIVE accounts whose access token has expired (refresh failing past expiry), as of the last reconciler pass. */
  accessTokenExpired: Gauge;
  /** Refresh jobs the reconciler had to restore (Redis lost them), per kind (`missing`, `failed`). */
  reconcileRestored: Counter<'kind'>;
  /** When the last reconciler pass finished (seconds since the epoch). */
  reconcileLastRun: Gauge;
  /** Webhook delivery attempts by event type and result (`delivered`, `retry`, `failed`, `endpoint_gone`, `skipped`). */
  webhookDeliveries: Counter<'type' | 'result'>;
  /** Time from sending a webhook to the receiver's answer (or the error), per event type. */
  webhookDeliveryDuration: Histogram<'type'>;
  /** Webhook delivery jobs the sweeper had to restore (Redis lost them, or the enqueue never happened). */
  webhookSweepRestored: Counter;
}

export interface CreateWorkerMetricsOptions {
  /** Also collect Node.js process metrics (event loop lag, memory, GC…). Default true. */
  defaultMetrics?: boolean;
}

export function createWorkerMetrics(options: CreateWorkerMetricsOptions = {}): WorkerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'worker' });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    jobsProcessed: new Counter({
      name: 'ttc_worker_jobs_processed_total',
      help: 'Jobs completed, per queue.',
      labelNames: ['queue'],
      registers: [registry],
    }),
    jobsFailed: new Counter({
      name: 'ttc_worker_jobs_failed_total',
      help: 'Job attempts that failed, per queue; retry="false" for final failures.',
      labelNames: ['queue', 'retry'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'ttc_worker_job_duration_seconds',
      help: 'Processing time of one job attempt.',
      labelNames: ['queue', 'status'],
      // Connection upserts take milliseconds; TikTok calls (refresh, revoke) up to the client timeout.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    refreshOutcomes: new Counter({
      name: 'ttc_worker_token_refresh_total',
      help: 'Token refresh attempts by result and reason.',
      labelNames: ['result', 'reason'],
      registers: [registry],
    }),
    accessTokenExpired: new Gauge({
      name: 'ttc_accounts_access_token_expired',
      help: 'ACTIVE accounts whose access token has expired while their refresh keeps failing (last full reconciler pass).',
      registers: [registry],
    }),
    reconcileRestored: new Counter({
      name: 'ttc_worker_reconcile_restored_total',
      help: 'Refresh jobs restored by the reconciler, per kind (missing, failed).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    reconcileLastRun: new Gauge({
      name: 'ttc_worker_reconcile_last_run_timestamp_seconds',
      help: 'When the last reconciler pass finished.',
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'ttc_webhook_deliveries_total',
      help: 'Webhook delivery attempts by event type and result (delivered, retry, failed, endpoint_gone, skipped).',
      labelNames: ['type', 'result'],
      registers: [registry],
    }),
    webhookDeliveryDuration: new Histogram({
      name: 'ttc_webhook_delivery_duration_seconds',
      help: 'Time from sending a webhook to the answer (or the error), per event type.',
      labelNames: ['type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    webhookSweepRestored: new Counter({
      name: 'ttc_webhook_sweep_restored_total',
      help: 'Webhook delivery jobs restored by the sweeper (missing or failed jobs of undelivered deliveries).',
      registers: [registry],
    }),
  };
}
