import { loggedError } from '@ttc/config';
import type { Queues } from '@ttc/queue';
import type { FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AccountsRepository } from '../graphql/repository.js';
import type { AdminAuthenticator } from './auth.js';
import { requireAdmin } from './auth.js';

const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'completed',
  'prioritized',
] as const satisfies readonly import('bullmq').JobType[];

export interface MetricsOptions {
  repo: AccountsRepository;
  queues: Queues;
  auth: AdminAuthenticator;
}

/**
 * Prometheus metrics at GET /metrics (admin token required: it reveals business numbers). HTTP metrics come from
 * hooks; account and queue gauges are read from Postgres and Redis at scrape time, so they are never stale and cost
 * nothing between scrapes. Not encapsulated (fastify-plugin): the onResponse hook must see every route of the app.
 */
export const metricsPlugin = fastifyPlugin(async (app: FastifyInstance, options: MetricsOptions): Promise<void> => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ttc_admin_' });

  const requests = new Counter({
    name: 'ttc_admin_http_requests_total',
    help: 'HTTP requests served by the admin app',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ttc_admin_http_request_duration_seconds',
    help: 'HTTP request duration in seconds',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const scrapeErrors = new Counter({
    name: 'ttc_admin_metrics_scrape_errors_total',
    help: 'Gauges that could not be read at scrape time, by source',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'ttc_accounts',
    help: 'Connected accounts per status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      try {
        const counts = await options.repo.countByStatus();
        this.reset();
        for (const [status, n] of counts) this.set({ status }, n);
      } catch (error) {
        scrapeErrors.inc({ source: 'postgres' });
        app.log.warn({ error: loggedError(error) }, 'metrics: account counts unavailable');
      }
    },
  });
  new Gauge({
    name: 'ttc_queue_jobs',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      try {
        const all = await Promise.all(
          options.queues.all().map(async (q) => [q.name, await q.getJobCounts(...QUEUE_STATES)] as const),
        );
        this.reset();
        for (const [queue, counts] of all) {
          for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0);
        }
      } catch (error) {
        scrapeErrors.inc({ source: 'redis' });
        app.log.warn({ error: loggedError(error) }, 'metrics: queue counts unavailable');
      }
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route template, not the URL: ids in paths would explode the label cardinality.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    { onRequest: requireAdmin(options.auth, { csrf: 'same-origin-unsafe-methods', onMissing: 'json' }) },
    async (_request, reply) => {
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    },
  );
});
