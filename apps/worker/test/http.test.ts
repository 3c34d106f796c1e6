import { sendPartialRequest } from '@ttc/testing';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type MonitoringServer, type MonitoringServerOptions, startMonitoringServer } from '../src/http.js';
import { createLogger } from '../src/logger.js';
import { createWorkerMetrics } from '../src/metrics.js';

const logger = createLogger({ level: 'silent' });
let server: MonitoringServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(
  checks: Record<string, () => Promise<void>>,
  registry: Registry = new Registry(),
  extra: Pick<MonitoringServerOptions, 'requestTimeoutMs' | 'metricsToken'> = {},
) {
  server = await startMonitoringServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    checks,
    logger,
    checkTimeoutMs: 200,
    ...extra,
  });
  return server;
}

describe('monitoring server', () => {
  it('answers 408 to a request whose headers never complete', async () => {
    const { url } = await start({}, new Registry(), { requestTimeoutMs: 300 });
    expect(await sendPartialRequest(url, { path: '/metrics', stopIn: 'headers' })).toEqual({ status: 408 });
  });

  it('wants the bearer METRICS_TOKEN on /metrics when it is set, and nowhere else', async () => {
    const token = 'metrics-token-0123456789';
    const { url } = await start({}, new Registry(), { metricsToken: token });
    const none = await fetch(`${url}/metrics`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('answers /healthz, and /readyz 200 when every check passes', async () => {
    const { url } = await start({ postgres: async () => {}, redis: async () => {} });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('answers /readyz 503 naming a failing or hung dependency', async () => {
    const { url } = await start({
      postgres: async () => {
        throw new Error('connection refused');
      },
      redis: () => new Promise(() => {}),
    });
    const started = Date.now();
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { postgres: 'failing', redis: 'failing' } });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('answers /readyz 503 once shutting down', async () => {
    const s = await start({ redis: async () => {} });
    s.markNotReady('shutting down');
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'shutting down' });
  });

  it('serves Prometheus metrics with the job counters and the default process metrics', async () => {
    const metrics = createWorkerMetrics();
    metrics.jobsProcessed.inc({ queue: 'account.connected' });
    const { url } = await start({}, metrics.registry);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('ttc_worker_jobs_processed_total{queue="account.connected",service="worker"} 1');
    expect(text).toContain('# TYPE ttc_worker_job_duration_seconds histogram');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });
});
