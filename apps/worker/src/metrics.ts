import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The worker's Prometheus metrics, in their own registry (tests build several side by side). */
export interface WorkerMetrics {
  registry: Registry;
  /** Jobs that completed, per queue. */
  jobsProcessed: Counter<'queue'>;
  /** Job attempts that threw, per queue; `retry` says whether BullMQ will try again. */
  jobsFailed: Counter<'queue' | 'retry'>;
  /** Processing time of each attempt, per queue and status (`completed`, `failed`). */
  jobDuration: Histogram<'queue' | 'status'>;
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
  };
}
