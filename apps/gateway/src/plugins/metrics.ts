import type { FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { apiKeyAuth } from './api-key-auth.js';

/** The gateway's Prometheus metrics, on a registry of its own (tests build many apps in one process). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern (never the raw URL, which can hold secrets)',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly apiKeyRequests = new Counter({
    name: 'gateway_api_key_requests_total',
    help: 'Requests authenticated with a gateway API key, by the key name (GATEWAY_API_KEYS name:key, never the key)',
    labelNames: ['key_name', 'method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });
  readonly connectSessionsCreated = new Counter({
    name: 'gateway_connect_sessions_created_total',
    help: 'Connect sessions created by upstream apps',
    registers: [this.registry],
  });
  readonly authorizeRedirects = new Counter({
    name: 'gateway_authorize_redirects_total',
    help: 'Redirects to the TikTok authorize page',
    registers: [this.registry],
  });
  readonly callbacks = new Counter({
    name: 'gateway_oauth_callbacks_total',
    help: 'OAuth callbacks by result: enqueued, denied, failed, rejected (bad state or parameters)',
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });
  readonly disconnects = new Counter({
    name: 'gateway_disconnects_total',
    help: 'Accounts disconnected from the hosted page',
    registers: [this.registry],
  });
  readonly userErasures = new Counter({
    name: 'gateway_user_erasures_total',
    help: 'Users erased through DELETE /v1/users/:userId',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_' });
  }
}

export interface MetricsPluginOptions {
  metrics: GatewayMetrics;
  /** METRICS_TOKEN: when set, `/metrics` wants `Authorization: Bearer <token>`; null = public. */
  token: string | null;
}

/** Request timing for every route, and `GET /metrics` in Prometheus text format. */
export const metricsPlugin = fastifyPlugin(async (app: FastifyInstance, { metrics, token }: MetricsPluginOptions) => {
  // Label sets are few (routes × methods × statuses): resolving each once keeps observe() off the hot path's profile.
  const children = new Map<string, { observe(value: number): void }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${route} ${reply.statusCode}`;
    let child = children.get(key);
    if (child === undefined) {
      child = metrics.httpDuration.labels(request.method, route, String(reply.statusCode));
      children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    if (request.apiKeyName) {
      metrics.apiKeyRequests.inc({
        key_name: request.apiKeyName,
        method: request.method,
        route,
        status_code: String(reply.statusCode),
      });
    }
    done();
  });
  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      ...(token === null
        ? {}
        : { onRequest: apiKeyAuth([token], 'Missing or invalid token: send Authorization: Bearer <METRICS_TOKEN>.') }),
      schema: {
        summary: 'Prometheus metrics',
        response: {
          200: {
            description: 'Prometheus text format: HTTP timings by route, connect sessions, redirects, callbacks',
            content: { 'text/plain': { schema: z.string() } },
          },
        },
      },
    },
    async (_request, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      reply.header('cache-control', 'no-store');
      return metrics.registry.metrics();
    },
  );
});
