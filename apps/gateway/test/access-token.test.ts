import { randomUUID } from 'node:crypto';
import { connectThroughTikTok, createTestAccounts, type TestAccounts } from '@ttc/accounts/testing';
import { createTikTokClient } from '@ttc/tiktok';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, startHarness } from './harness.js';

let h: Harness;
let deps: TestAccounts;

beforeAll(async () => {
  h = await startHarness();
  deps = createTestAccounts({
    prisma: h.db.prisma,
    keyring: h.keyring,
    redis: h.redis,
    queues: h.queues,
    queuePrefix: h.prefix,
    tiktok: createTikTokClient({
      ...h.sandbox.clientOptions,
    }),
  });
});

afterAll(async () => {
  await h?.close();
});

beforeEach(async () => {
  await h.sandbox.control.clearFailures();
  await h.sandbox.control.resetCalls();
});

const get = (id: string, qs = '', auth = true) =>
  h.app.inject({
    method: 'GET',
    url: `/v1/accounts/${id}/access-token${qs}`,
    headers: auth ? { authorization: `Bearer ${API_KEY}` } : {},
  });

/** Makes the stored access token look like it expires in `ms` (TikTok's copy stays valid). */
async function expireSoon(accountId: string, ms: number) {
  await h.db.prisma.socialAccount.update({
    where: { id: accountId },
    data: {
      accessTokenExpiresAt: new Date(Date.now() + ms),
      tokensObtainedAt: new Date(Date.now() - 86_400_000 + ms),
    },
  });
}

describe('GET /v1/accounts/:id/access-token', () => {
  it('refuses a request without the gateway API key', async () => {
    const res = await get(randomUUID(), '', false);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'GW_UNAUTHORIZED' } });
  });

  it('returns a valid token, uncached, without refreshing one that is far from expiry', async () => {
    const { accountId, tokens } = await connectThroughTikTok(deps, h.sandbox.control, { openId: 'sbx-open-ava' });
    await h.sandbox.control.resetCalls();

    const res = await get(accountId);

    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      accessToken: tokens.accessToken,
      expiresAt: tokens.accessTokenExpiresAt.toISOString(),
      openId: 'sbx-open-ava',
      scopes: tokens.scopes,
    });
    expect(await h.sandbox.control.calls({ endpoint: 'refresh' })).toHaveLength(0);
    await expect(deps.tiktok?.getUserInfo(res.json().accessToken)).resolves.toMatchObject({ openId: 'sbx-open-ava' });
  });

  it('50 concurrent requests for an expiring account cause exactly one refresh and all get the new token', async () => {
    const { accountId, tokens } = await connectThroughTikTok(deps, h.sandbox.control, { openId: 'sbx-open-ben' });
    await expireSoon(accountId, 60_000);
    await h.sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'latency', latencyMs: 300 });
    await h.sandbox.control.resetCalls();

    const responses = await Promise.all(Array.from({ length: 50 }, () => get(accountId)));

    expect(responses.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
    const issued = new Set(responses.map((r) => r.json().accessToken));
    expect(issued.size).toBe(1);
    expect([...issued][0]).not.toBe(tokens.accessToken);
    const refreshes = await h.sandbox.control.calls({ endpoint: 'refresh' });
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]?.status).toBe(200);
  });

  it('honours minValidity and rejects a malformed one with 400', async () => {
    const { accountId } = await connectThroughTikTok(deps, h.sandbox.control, { openId: 'sbx-open-chloe' });
    await expireSoon(accountId, 120_000);
    expect((await get(accountId, '?minValidity=60')).statusCode).toBe(200);
    expect(await h.sandbox.control.calls({ endpoint: 'refresh' })).toHaveLength(0);
    expect((await get(accountId, '?minValidity=600')).statusCode).toBe(200);
    expect(await h.sandbox.control.calls({ endpoint: 'refresh' })).toHaveLength(1);
    for (const bad of ['?minValidity=-1', '?minValidity=abc', '?minValidity=999999']) {
      const res = await get(accountId, bad);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'GW_VALIDATION' } });
    }
  });

  it('answers 404 GW_ACCOUNT_NOT_FOUND for unknown and malformed ids', async () => {
    for (const id of [randomUUID(), 'not-a-uuid', "1'%20OR%201=1"]) {
      const res = await get(id);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'GW_ACCOUNT_NOT_FOUND' } });
    }
  });

  it('answers 409 GW_ACCOUNT_REAUTH_REQUIRED once TikTok refused the refresh token', async () => {
    const { accountId } = await connectThroughTikTok(deps, h.sandbox.control, { openId: 'sbx-open-dev' });
    await expireSoon(accountId, 10_000);
    await h.sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'invalid_grant' });

    for (let i = 0; i < 2; i++) {
      const res = await get(accountId);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ error: { code: 'GW_ACCOUNT_REAUTH_REQUIRED' } });
    }
    expect(await h.sandbox.control.calls({ endpoint: 'refresh' })).toHaveLength(1);
  });

  it('answers 410 GW_ACCOUNT_DISCONNECTED for a disconnected account', async () => {
    const { accountId } = await connectThroughTikTok(deps, h.sandbox.control, { openId: 'sbx-open-emi' });
    await deps.disconnect({ accountId, actor: 'admin' });
    const res = await get(accountId);
    expect(res.statusCode).toBe(410);
    expect(res.json()).toMatchObject({ error: { code: 'GW_ACCOUNT_DISCONNECTED' } });
  });

  it('keeps serving a still-valid token while TikTok is down, and answers 503 GW_TIKTOK_UNAVAILABLE once it expired', async () => {
    const { accountId, tokens } = await connectThroughTikTok(deps, h.sandbox.control, { openId: 'sbx-open-zoe' });
    await expireSoon(accountId, 30_000);
    await h.sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'http_503', times: Number.POSITIVE_INFINITY });

    const stillValid = await get(accountId);
    expect(stillValid.statusCode).toBe(200);
    expect(stillValid.json().accessToken).toBe(tokens.accessToken);

    await expireSoon(accountId, -1_000);
    const expired = await get(accountId);
    expect(expired.statusCode).toBe(503);
    expect(expired.json()).toMatchObject({ error: { code: 'GW_TIKTOK_UNAVAILABLE' } });
    expect(expired.body).not.toContain(tokens.accessToken);
  });
});
