import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ttc/config';
import { parseKeyring } from '@ttc/crypto';
import { createTikTokClient } from '@ttc/tiktok';
import { SANDBOX_USERS } from '@ttc/tiktok-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../src/app.js';
import { API_KEY, authorizeParams, gatewayWithDeadRedis, type Harness, startHarness } from './harness.js';

let h: Harness;
const logLines: string[] = [];

beforeAll(async () => {
  h = await startHarness({ logLines });
});

afterAll(async () => {
  await h?.close();
});

describe('logging', () => {
  it('never logs API keys, cookies, codes, states, link secrets or tokens', async () => {
    const session = await h.createSession();
    const browser = h.browser();
    await browser.get(new URL(session.url).pathname);
    const user = SANDBOX_USERS[0]!;
    const params = authorizeParams(await browser.get('/connect/tiktok'));
    const state = params.get('state') ?? '';
    const { code } = await h.sandbox.control.mintCode({
      openId: user.openId,
      redirectUri: params.get('redirect_uri') ?? '',
      scopes: ['user.info.basic', 'user.info.profile'],
      codeChallenge: params.get('code_challenge') ?? '',
    });
    const callback = await browser.get(`/auth/tiktok/callback?code=${code}&state=${state}`);
    await browser.get(String(callback.headers.location));
    // A replay, which is logged as refused.
    await browser.get(`/auth/tiktok/callback?code=leaky-code-123456&state=${state}`);

    const row = await h.db.prisma.socialAccount.findFirstOrThrow({ where: { userId: session.userId } });
    const all = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(5);
    const secrets = [
      API_KEY,
      new URL(session.url).pathname.split('/')[2] as string,
      state,
      'leaky-code-123456',
      code,
      row.accessTokenCiphertext ?? 'none',
      ...[...browser.cookies.values()].map((c) => c.value),
    ];
    for (const secret of secrets) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/\b(act|rft)\.[A-Za-z0-9]/);
    expect(all).toContain('/connect/[redacted]');
    expect(all).toContain('"url":"/auth/tiktok/callback"');
  });
});

describe('readiness', () => {
  it('answers 503 naming Redis when Redis is unreachable', async () => {
    const app = await gatewayWithDeadRedis(h);
    try {
      const res = await app.inject('/readyz');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        status: 'unavailable',
        checks: { postgres: 'ok', redis: 'failed' },
        error: { code: 'GW_UNAVAILABLE', message: 'Not ready: redis unreachable' },
      });
      expect((await app.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('development shortcut', () => {
  it('GET /dev creates a demo connect session and redirects to its one-time link; / points to it', async () => {
    const config = loadConfig({
      service: 'gateway',
      devSecretsFile: join(tmpdir(), `ttc-gw-dev-${randomBytes(4).toString('hex')}.json`),
      env: { NODE_ENV: 'development', QUEUE_PREFIX: h.prefix, PUBLIC_GATEWAY_URL: 'http://localhost:3000' },
    });
    const app = await buildGateway({
      config,
      prisma: h.db.prisma,
      redis: h.redis,
      queues: h.queues,
      tiktok: createTikTokClient({ clientKey: 'k', clientSecret: 's' }),
      keyring: parseKeyring(config.tokenEncryptionKeys),
      logger: false,
    });
    try {
      expect((await app.inject('/')).headers.location).toBe('/dev');
      const dev = await app.inject('/dev');
      expect(dev.statusCode).toBe(303);
      const link = new URL(String(dev.headers.location));
      expect(link.origin).toBe('http://localhost:3000');
      expect(link.pathname).toMatch(/^\/connect\/cs_/);
      const opened = await app.inject(link.pathname);
      expect(opened.statusCode).toBe(303);
      const page = await app.inject({
        url: '/connect',
        headers: { cookie: String(opened.headers['set-cookie']).split(';')[0] },
      });
      expect(page.statusCode).toBe(200);
      const done = /href="(\/connect\/done\?csrf=[^"]+)">Done<\/a>/.exec(page.body)?.[1];
      expect(done).toBeDefined();
      const back = await app.inject({
        url: done as string,
        headers: { cookie: String(opened.headers['set-cookie']).split(';')[0] },
      });
      expect(back.statusCode).toBe(303);
      expect(String(back.headers.location)).toMatch(/^http:\/\/localhost:3000\/dev\/done\?connect_session_id=cs_/);
    } finally {
      await app.close();
    }
  });
});
