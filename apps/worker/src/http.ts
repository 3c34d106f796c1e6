import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loggedError, serverTimeouts } from '@ttc/config';
import { safeEqual } from '@ttc/crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** A readiness check: resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = () => Promise<void>;

export interface MonitoringServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
  logger: Logger;
  /** A request not fully received by then is answered 408 (REQUEST_TIMEOUT_MS). Default 30 s. */
  requestTimeoutMs?: number;
  /** METRICS_TOKEN: when set, `/metrics` wants `Authorization: Bearer <token>`; unset or null = public. */
  metricsToken?: string | null;
  /** Per-check limit, so that a hung dependency makes /readyz answer 503 rather than hang. Default 2 s. */
  checkTimeoutMs?: number;
}

export interface MonitoringServer {
  url: string;
  server: Server;
  /** From now on /readyz answers 503 (shutting down), so traffic and probes move elsewhere. */
  markNotReady(reason: string): void;
  close(): Promise<void>;
}

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });

/** Whether an Authorization header carries `token` as its bearer token (compared in constant time). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = header === undefined ? undefined : /^Bearer[ ]+(\S{1,512})\s*$/i.exec(header)?.[1];
  return presented !== undefined && safeEqual(presented, token);
}

/**
 * The worker has no API, only probes: `/metrics` (Prometheus), `/healthz` (the process runs) and `/readyz`
 * (Postgres and Redis answer). node:http and prom-client suffice; a framework would be a dependency for three routes.
 */
export async function startMonitoringServer(options: MonitoringServerOptions): Promise<MonitoringServer> {
  const checkTimeoutMs = options.checkTimeoutMs ?? 2_000;
  let notReady: string | null = null;

  const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const { http: timeouts, connectionTimeout } = serverTimeouts(options.requestTimeoutMs ?? 30_000);
  const server = createServer(timeouts, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Only GET is supported' } });
      return;
    }
    if (path === '/healthz') {
      send(res, 200, { status: 'ok' });
      return;
    }
    if (path === '/readyz') {
      void (async () => {
        const entries = await Promise.all(
          Object.entries(options.checks).map(async ([name, check]) => {
            try {
              await withTimeout(check(), checkTimeoutMs);
              return [name, 'ok'] as const;
            } catch (err) {
              options.logger.warn({ error: loggedError(err), check: name }, 'readiness check failed');
              return [name, 'failing'] as const;
            }
          }),
        );
        const checks = Object.fromEntries(entries);
        const ready = notReady === null && entries.every(([, state]) => state === 'ok');
        send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', reason: notReady ?? undefined, checks });
      })();
      return;
    }
    if (path === '/metrics') {
      if (options.metricsToken && !bearerMatches(req.headers.authorization, options.metricsToken)) {
        res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        send(res, 401, { error: { code: 'UNAUTHORIZED', message: 'Send Authorization: Bearer <METRICS_TOKEN>' } });
        return;
      }
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          options.logger.error({ err }, 'collecting metrics failed');
          send(res, 500, { error: { code: 'METRICS_FAILED', message: 'Collecting metrics failed' } });
        },
      );
      return;
    }
    send(res, 404, { error: { code: 'NOT_FOUND', message: 'Not found' } });
  });

  server.setTimeout(connectionTimeout, (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    server,
    markNotReady: (reason) => {
      notReady = reason;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Prometheus keeps connections alive; without this close() would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}
