// The gateway's HTTP edges against hostile or misplaced clients: slow requests, development pages, proxies, metrics.
import type { AppConfig } from '@ttc/config';
import { sendPartialRequest } from '@ttc/testing';
import { createTikTokClient } from '@ttc/tiktok';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type GatewayDeps } from '../src/app.js';
import { API_KEY, type Harness, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A second gateway on the harness's clients, with some settings changed. */
async function gatewayWith(
  config: Partial<AppConfig>,
  deps: Partial<GatewayDeps> = {},
  run: (app: FastifyInstance) => Promise<void> = async () => {},
): Promise<void> {
  const app = await buildGateway({
    config: { ...h.config, ...config },
    prisma: h.db.prisma,
    redis: h.redis,
    queues: h.queues,
    tiktok: createTikTokClient({ clientKey: 'k', clientSecret: 's' }),
    keyring: h.keyring,
    logger: false,
    ...deps,
  });
  try {
    await run(app);
  } finally {
    await app.close();
  }
}

describe('request timeout', () => {
  it('answers 408 to a request whose body never completes', async () => {
    const h = await startHarness({ listen: true, env: { REQUEST_TIMEOUT_MS: '300' } });
    try {
      expect(
        await sendPartialRequest(h.publicUrl, {
          path: '/v1/connect-sessions',
          headers: { authorization: `Bearer ${API_KEY}` },
        }),
      ).toEqual({ status: 408 });
    } finally {
      await h.close();
    }
  });
});

describe('development pages', () => {
  it('serve /dev to loopback clients when NODE_ENV=development is set explicitly', async () => {
    await gatewayWith({ env: 'development', envExplicit: true }, {}, async (app) => {
      expect((await app.inject('/')).headers.location).toBe('/dev');
      expect((await app.inject({ url: '/dev', remoteAddress: '127.0.0.1' })).statusCode).toBe(303);
      expect((await app.inject({ url: '/dev/done', remoteAddress: '::1' })).statusCode).toBe(200);
    });
  });

  it('answer 404 to a client that is not on loopback, whatever X-Forwarded-For says', async () => {
    await gatewayWith({ env: 'development', envExplicit: true }, {}, async (app) => {
      const remote = { remoteAddress: '203.0.113.7' };
      expect((await app.inject({ url: '/dev', ...remote })).statusCode).toBe(404);
      expect((await app.inject({ url: '/dev/done', ...remote })).statusCode).toBe(404);
      const forged = await app.inject({ url: '/dev', ...remote, headers: { 'x-forwarded-for': '127.0.0.1' } });
      expect(forged.statusCode).toBe(404);
      expect((await app.inject({ url: '/', ...remote })).statusCode).toBe(200);
    });
  });

  it('do not exist when NODE_ENV was left unset (development only by default)', async () => {
    await gatewayWith({ env: 'development', envExplicit: false }, {}, async (app) => {
      expect((await app.inject({ url: '/dev', remoteAddress: '127.0.0.1' })).statusCode).toBe(404);
      expect((await app.inject('/')).statusCode).toBe(200);
    });
  });
});

describe('TRUST_PROXY', () => {
  /** `x-ratelimit-remaining` of a one-time link request from each client, in order, on a fresh limiter. */
  async function remainingFor(trustProxy: AppConfig['trustProxy'], clients: string[]): Promise<number[]> {
    const remaining: number[] = [];
    const fresh = `${h.prefix}-${Math.random().toString(36).slice(2)}`;
    await gatewayWith({ trustProxy, queuePrefix: fresh }, {}, async (app) => {
      for (const client of clients) {
        const res = await app.inject({
          url: '/connect/cs_unknown.secret',
          remoteAddress: '10.0.0.2',
          headers: { 'x-forwarded-for': client },
        });
        remaining.push(Number(res.headers['x-ratelimit-remaining']));
      }
    });
    // A fresh bucket of 60 (one-time links) less this request.
    expect(remaining[0]).toBe(59);
    return remaining;
  }

  it('gives two clients behind a trusted proxy two rate-limit buckets', async () => {
    const [a1, a2, b1] = await remainingFor(true, ['198.51.100.1', '198.51.100.1', '198.51.100.2']);
    expect(a2).toBe((a1 ?? 0) - 1);
    expect(b1).toBe(a1);
  });

  it("puts every client behind an untrusted proxy in the proxy's one bucket", async () => {
    const [a1, , b1] = await remainingFor(false, ['198.51.100.1', '198.51.100.1', '198.51.100.2']);
    expect(b1).toBe((a1 ?? 0) - 2);
  });

  it('trusts only the listed proxy addresses', async () => {
    const [a1, , b1] = await remainingFor(['10.0.0.0/8'], ['198.51.100.1', '198.51.100.1', '198.51.100.2']);
    expect(b1).toBe(a1);
    const [c1, , d1] = await remainingFor(['192.0.2.1'], ['198.51.100.1', '198.51.100.1', '198.51.100.2']);
    expect(d1).toBe((c1 ?? 0) - 2);
  });
});

describe('/metrics', () => {
  it('is public when METRICS_TOKEN is not set', async () => {
    expect(h.config.metricsToken).toBeNull();
    expect((await h.app.inject('/metrics')).statusCode).toBe(200);
  });

  it('wants the bearer METRICS_TOKEN when it is set', async () => {
    const token = 'metrics-token-0123456789';
    await gatewayWith({ metricsToken: token }, {}, async (app) => {
      const none = await app.inject('/metrics');
      expect(none.statusCode).toBe(401);
      expect(none.json()).toEqual({
        error: { code: 'GW_UNAUTHORIZED', message: expect.stringContaining('METRICS_TOKEN') },
      });
      const apiKey = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${API_KEY}` } });
      expect(apiKey.statusCode).toBe(401);
      const ok = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('# HELP');
    });
  });
});
