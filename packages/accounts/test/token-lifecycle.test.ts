import { randomUUID } from 'node:crypto';
import { decryptToken, generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import {
  accountIdOfRefreshJob,
  createQueues,
  createRedisConnection,
  jobIds,
  type Queues,
  type RedisClient,
} from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { type SandboxHandle, startSandbox } from '@ttc/tiktok-sandbox';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AccountsOptions,
  computeNextRefreshAt,
  isAccountError,
  refreshLeadMs,
  retryDelayMs,
  tokenAad,
} from '../src/index.js';
import { connectThroughTikTok, createTestAccounts, makeTestConnection, type TestAccounts } from '../src/testing.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-${randomUUID()}`;
const keyring = parseKeyring(generateKeyringEntry());
let db: TestDatabase;
let sandbox: SandboxHandle;
const redisConnections: RedisClient[] = [];
const allQueues: Queues[] = [];
let deps: TestAccounts;

/** A separate "process": its own Redis connections, queue handles and single-flight map, same prefix and database. */
function makeDeps(overrides: Partial<AccountsOptions> = {}): TestAccounts {
  const redis = createRedisConnection(redisUrl, 'client', 'lifecycle-test');
  const producer = createRedisConnection(redisUrl, 'producer', 'lifecycle-test');
  redisConnections.push(redis, producer);
  const queuePrefix = overrides.queuePrefix ?? prefix;
  const queues = createQueues({ connection: producer, prefix: queuePrefix });
  allQueues.push(queues);
  return createTestAccounts({
    prisma: db.prisma,
    keyring,
    redis,
    queues,
    queuePrefix,
    tiktok: createTikTokClient({
      ...sandbox.clientOptions,
      timeoutMs: 3_000,
    }),
    lifecycle: { retryBaseMs: 200, retryMaxMs: 2_000 },
    ...overrides,
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
  deps = makeDeps();
});

afterAll(async () => {
  for (const queue of allQueues[0]?.all() ?? []) await queue.obliterate({ force: true });
  for (const queues of allQueues) await queues.close();
  const redis = redisConnections[0];
  if (redis) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  for (const c of redisConnections) c.disconnect();
  await sandbox?.close();
  await db?.drop();
});

beforeEach(async () => {
  await sandbox.control.reset();
});

async function eventsOf(accountId: string) {
  return db.prisma.accountEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
}

async function clearRefreshToken(accountId: string) {
  const row = await deps.readTokenRow(accountId);
  if (!row?.refreshTokenCiphertext) return null;
  return decryptToken(keyring, row.refreshTokenCiphertext, tokenAad(row));
}

/** Makes the stored access token look like it expires in `ms` (TikTok's copy stays valid). */
async function expireSoon(accountId: string, ms: number) {
  await db.prisma.socialAccount.update({
    where: { id: accountId },
    data: {
      accessTokenExpiresAt: new Date(Date.now() + ms),
      tokensObtainedAt: new Date(Date.now() - 86_400_000 + ms),
      nextRefreshAt: new Date(Date.now() - 1_000),
    },
  });
}

/** Any other job the throwaway worker happens to take is just failed once (BullMQ retries it later). */
class DelayedLater extends Error {}

describe('scheduling', () => {
  it('adapts the lead to short lifetimes and only ever moves the refresh earlier', () => {
    const s = { refreshLeadSeconds: 600, leadShare: 0.25, jitterShare: 0.1 };
    expect(refreshLeadMs(86_400_000, s)).toBe(600_000);
    expect(refreshLeadMs(20_000, s)).toBe(5_000);
    const obtainedAt = new Date('2030-01-01T00:00:00Z');
    const accessTokenExpiresAt = new Date(obtainedAt.getTime() + 20_000);
    const latest = computeNextRefreshAt({ obtainedAt, accessTokenExpiresAt }, s, () => 0);
    const earliest = computeNextRefreshAt({ obtainedAt, accessTokenExpiresAt }, s, () => 0.999999);
    expect(latest.getTime()).toBe(obtainedAt.getTime() + 15_000);
    expect(earliest.getTime()).toBe(obtainedAt.getTime() + 14_500);
  });

  it('backs off exponentially with jitter, capped, and honours Retry-After', () => {
    const s = { retryBaseMs: 1_000, retryMaxMs: 60_000 };
    expect(retryDelayMs(1, s, undefined, () => 0)).toBe(500);
    expect(retryDelayMs(1, s, undefined, () => 1)).toBe(1_000);
    expect(retryDelayMs(4, s, undefined, () => 1)).toBe(8_000);
    expect(retryDelayMs(40, s, undefined, () => 1)).toBe(60_000);
    expect(retryDelayMs(1, s, 5, () => 0)).toBe(5_000);
  });

  it('schedules one delayed refresh job per account on connection, with no token in Redis', async () => {
    await sandbox.control.setLifetimes({ accessTokenTtlSeconds: 20 });
    const { accountId, tokens } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-ava' });
    const row = await deps.readTokenRow(accountId);
    const job = await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
    expect(await job?.getState()).toBe('delayed');
    // Nothing in the data (the id names the account), nothing but id and delay in the options: a compact hash.
    expect(job?.data).toEqual({});
    expect(accountIdOfRefreshJob(job?.id)).toBe(accountId);
    expect(await deps.redis.call('OBJECT', 'ENCODING', deps.queues.tokenRefresh.toKey(job?.id ?? ''))).toBe('listpack');
    const raw = JSON.stringify(await deps.redis.hgetall(deps.queues.tokenRefresh.toKey(job?.id ?? '')));
    expect(raw).not.toContain(tokens.accessToken.slice(4, 20));
    expect(raw).not.toContain(tokens.refreshToken.slice(4, 20));
    // 20-second token: due 5 s (plus up to 0.5 s jitter) before expiry, not 10 minutes "before".
    const expires = tokens.accessTokenExpiresAt.getTime();
    expect(row?.nextRefreshAt?.getTime()).toBeLessThanOrEqual(expires - 5_000 + 50);
    expect(row?.nextRefreshAt?.getTime()).toBeGreaterThanOrEqual(expires - 5_500 - 50);
    expect((job?.timestamp ?? 0) + (job?.delay ?? 0)).toBeGreaterThanOrEqual((row?.nextRefreshAt?.getTime() ?? 0) - 50);
  });
});

describe('refreshAccount', () => {
  it('rotates: stores the new refresh token, uses TikTok lifetimes, records REFRESHED and moves the job', async () => {
    await sandbox.control.setLifetimes({ accessTokenTtlSeconds: 120, refreshTokenTtlSeconds: 86_400 * 30 });
    const { accountId, tokens } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-ben' });
    const before = await deps.readTokenRow(accountId);

    const result = await deps.refresh(accountId, { reason: 'manual', force: true });

    expect(result.outcome).toBe('refreshed');
    const after = await deps.readTokenRow(accountId);
    expect(after?.tokenVersion).toBe((before?.tokenVersion ?? 0) + 1);
    const newRefresh = await clearRefreshToken(accountId);
    expect(newRefresh).not.toBe(tokens.refreshToken);
    expect(newRefresh).toMatch(/^rft\./);
    const lifetime = (after?.accessTokenExpiresAt?.getTime() ?? 0) - (after?.tokensObtainedAt.getTime() ?? 0);
    expect(lifetime).toBe(120_000);
    const refreshLifetime = (after?.refreshTokenExpiresAt?.getTime() ?? 0) - (after?.tokensObtainedAt.getTime() ?? 0);
    expect(refreshLifetime).toBe(30 * 86_400_000);
    expect((await eventsOf(accountId)).map((e) => e.type)).toEqual(['CONNECTED', 'REFRESHED']);
    const job = await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
    expect((job?.timestamp ?? 0) + (job?.delay ?? 0)).toBeGreaterThan(Date.now() + 60_000);
    expect(Math.abs(Date.now() + (job?.delay ?? 0) - (after?.nextRefreshAt?.getTime() ?? 0))).toBeLessThan(1_000);

    // The old refresh token is spent at TikTok; the stored one works.
    await expect(deps.tiktok?.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'TIKTOK_INVALID_GRANT' });
    expect((await deps.refresh(accountId, { reason: 'manual', force: true })).outcome).toBe('refreshed');
  });

  it('does nothing when the token is not due', async () => {
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-chloe' });
    await sandbox.control.resetCalls();
    expect((await deps.refresh(accountId, { reason: 'scheduled' })).outcome).toBe('not_due');
    expect(await sandbox.control.calls({ endpoint: 'refresh' })).toHaveLength(0);
  });

  it('50 concurrent access-token requests for an expiring account, from two processes, cause exactly one refresh', async () => {
    const { accountId, tokens } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-dev' });
    await expireSoon(accountId, 2_000);
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'latency', latencyMs: 300 });
    await sandbox.control.resetCalls();
    const other = makeDeps();

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? deps : other).getFreshAccessToken(accountId)),
    );

    const refreshes = await sandbox.control.calls({ endpoint: 'refresh' });
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]?.status).toBe(200);
    const distinct = new Set(results.map((r) => r.accessToken));
    expect(distinct.size).toBe(1);
    expect(results[0]?.accessToken).not.toBe(tokens.accessToken);
    expect(results[0]?.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3_600_000);
    expect((await eventsOf(accountId)).filter((e) => e.type === 'REFRESHED')).toHaveLength(1);
  });

  it('invalid_grant → REAUTH_REQUIRED at once: tokens wiped, event, one call, job ended; access tokens refused', async () => {
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-emi' });
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'invalid_grant' });
    await sandbox.control.resetCalls();

    const result = await deps.refresh(accountId, { reason: 'manual', force: true });

    expect(result.outcome).toBe('reauth_required');
    expect(await sandbox.control.calls({ endpoint: 'refresh' })).toHaveLength(1);
    const row = await deps.readTokenRow(accountId);
    expect(row).toMatchObject({
      status: 'REAUTH_REQUIRED',
      accessTokenCiphertext: null,
      refreshTokenCiphertext: null,
      nextRefreshAt: null,
    });
    expect(row?.lastError).toContain('TIKTOK_INVALID_GRANT');
    expect((await eventsOf(accountId)).map((e) => e.type)).toContain('REAUTH_REQUIRED');
    const error = await deps.getFreshAccessToken(accountId).catch((e: unknown) => e);
    expect(isAccountError(error, 'ACCOUNT_REAUTH_REQUIRED')).toBe(true);
    expect((await deps.refresh(accountId, { reason: 'scheduled' })).outcome).toBe('inactive');
  });

  it('5xx and 429 → recorded, account stays ACTIVE with its valid token, next attempt backed off; success clears it', async () => {
    const { accountId, tokens } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-zoe' });
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'http_500' });
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'rate_limit' });

    const first = await deps.refresh(accountId, { reason: 'manual', force: true });
    expect(first.outcome).toBe('failed');
    expect(first.account).toMatchObject({ status: 'ACTIVE', refreshFailureCount: 1 });
    expect(first.account?.lastError).toMatch(/^TIKTOK_SERVER_ERROR/);
    expect(first.account?.nextRefreshAt?.getTime()).toBe(first.retryAt?.getTime());
    // Still usable: the current token is valid for a day.
    expect((await deps.getFreshAccessToken(accountId, { minValidityMs: 0 })).accessToken).toBe(tokens.accessToken);

    const beforeSecond = Date.now();
    const second = await deps.refresh(accountId, { reason: 'manual', force: true });
    expect(second.outcome).toBe('failed');
    expect(second.account?.lastError).toMatch(/^TIKTOK_RATE_LIMITED/);
    // 429 carries Retry-After: 1 (counted from the call, whatever the machine's load made the call take).
    expect((second.retryAt?.getTime() ?? 0) - beforeSecond).toBeGreaterThanOrEqual(1_000);

    const third = await deps.refresh(accountId, { reason: 'manual', force: true });
    expect(third.outcome).toBe('refreshed');
    expect(third.account).toMatchObject({ status: 'ACTIVE', refreshFailureCount: 0, lastError: null });
    const types = (await eventsOf(accountId)).map((e) => e.type);
    expect(types.filter((t) => t === 'REFRESH_FAILED')).toHaveLength(2);
    expect(types.at(-1)).toBe('REFRESHED');
  });

  it('says so when refreshes keep failing past the access token expiry, and then refuses to hand out the token', async () => {
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-ava' });
    await expireSoon(accountId, -1_000);
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'http_503', times: 10 });

    const error = await deps.getFreshAccessToken(accountId).catch((e: unknown) => e);

    expect(isAccountError(error, 'ACCOUNT_REFRESH_UNAVAILABLE')).toBe(true);
    const row = await deps.readTokenRow(accountId);
    expect(row?.status).toBe('ACTIVE');
    expect(row?.lastError).toMatch(/^ACCESS_TOKEN_EXPIRED: refresh failing since the access token expired/);
    const failed = (await eventsOf(accountId)).filter((e) => e.type === 'REFRESH_FAILED');
    expect(failed.at(-1)?.data).toMatchObject({ accessTokenExpired: true });
  });

  it('a lost answer after TikTok rotated: failed now, invalid_grant next → REAUTH_REQUIRED naming the earlier error', async () => {
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-ben' });
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'drop', afterProcessing: true });

    const lost = await deps.refresh(accountId, { reason: 'manual', force: true });
    expect(lost.outcome).toBe('failed');
    const next = await deps.refresh(accountId, { reason: 'manual', force: true });
    expect(next.outcome).toBe('reauth_required');
    const calls = await sandbox.control.calls({ endpoint: 'refresh' });
    expect(calls.at(-1)?.refreshTokenReused).toBe(true);
    const event = (await eventsOf(accountId)).find((e) => e.type === 'REAUTH_REQUIRED');
    expect(event?.data).toMatchObject({ previousError: expect.stringMatching(/^TIKTOK_NETWORK_ERROR/) });
  });

  it('a refresh that lost a race to a reconnect does not overwrite the newer tokens', async () => {
    const userId = `user-${randomUUID()}`;
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { userId, openId: 'sbx-open-chloe' });
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'latency', latencyMs: 600 });

    const refreshing = deps.refresh(accountId, { reason: 'manual', force: true });
    await new Promise((r) => setTimeout(r, 150));
    await connectThroughTikTok(deps, sandbox.control, { userId, openId: 'sbx-open-chloe' });
    const reconnected = await deps.readTokenRow(accountId);
    const result = await refreshing;

    expect(result.outcome).toBe('lost_race');
    const row = await deps.readTokenRow(accountId);
    expect(row?.refreshTokenCiphertext).toBe(reconnected?.refreshTokenCiphertext);
    expect(row?.tokenVersion).toBe(reconnected?.tokenVersion);
  });

  it('keeps its lock while the write of rotated tokens is slow: no second process spends the rotated refresh token', async () => {
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-dev' });
    await sandbox.control.resetCalls();
    const lifecycle = { retryBaseMs: 200, retryMaxMs: 2_000, lockTtlMs: 300, lockWaitMs: 400 };
    const holder = makeDeps({ lifecycle });
    const other = makeDeps({ lifecycle });

    // Another transaction holds the row: the holder's compare-and-set of the rotated tokens waits well past the
    // lock's 300 ms lifetime (a slow or contended database), after TikTok has already rotated the refresh token.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let rowLocked: () => void = () => {};
    const locked = new Promise<void>((resolve) => {
      rowLocked = resolve;
    });
    const blocker = db.prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM social_accounts WHERE id = ${accountId}::uuid FOR UPDATE`;
        rowLocked();
        await released;
      },
      { timeout: 10_000 },
    );
    await locked;
    const refreshing = holder.refresh(accountId, { reason: 'manual', force: true });
    while ((await sandbox.control.calls({ endpoint: 'refresh' })).length === 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 700));

    const racing = other.refresh(accountId, { reason: 'manual', force: true });
    await new Promise((r) => setTimeout(r, 600));
    release();
    await blocker;
    const [first, second] = await Promise.all([refreshing, racing]);

    expect(second.outcome).toBe('busy');
    expect(first.outcome).toBe('refreshed');
    const calls = await sandbox.control.calls({ endpoint: 'refresh' });
    expect(calls).toHaveLength(1);
    expect((await deps.readTokenRow(accountId))?.status).toBe('ACTIVE');
  });

  it('flags a refresh token close to its own expiry once per refresh token', async () => {
    await sandbox.control.setLifetimes({ refreshTokenTtlSeconds: 3 * 86_400 });
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-dev' });
    expect(await deps.flagExpiringRefreshToken(accountId)).toBe(false);
    let expiring = (await eventsOf(accountId)).filter((e) => e.type === 'REFRESH_TOKEN_EXPIRING');
    expect(expiring).toHaveLength(1);
    expect((await deps.refresh(accountId, { reason: 'manual', force: true })).outcome).toBe('refreshed');
    expiring = (await eventsOf(accountId)).filter((e) => e.type === 'REFRESH_TOKEN_EXPIRING');
    expect(expiring).toHaveLength(2);
  });
});

describe('disconnectAccount', () => {
  it('wipes the tokens, cancels the refresh job and enqueues the revoke with ciphertext only', async () => {
    const { accountId, tokens, userId } = await connectThroughTikTok(deps, sandbox.control, {
      openId: 'sbx-open-emi',
    });
    const before = await deps.readTokenRow(accountId);
    expect(await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId))).toBeDefined();

    const summary = await deps.disconnect({ accountId, userId, actor: 'user' });

    expect(summary.status).toBe('DISCONNECTED');
    const row = await deps.readTokenRow(accountId);
    expect(row).toMatchObject({ accessTokenCiphertext: null, refreshTokenCiphertext: null, nextRefreshAt: null });
    expect(await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId))).toBeUndefined();
    const revoke = await deps.queues.accountRevoke.getJob(jobIds.accountRevoke(accountId, row?.tokenVersion ?? -1));
    expect(revoke?.data).toEqual({
      accountId,
      userId,
      openId: 'sbx-open-emi',
      accessTokenCiphertext: before?.accessTokenCiphertext,
      tokenVersion: row?.tokenVersion,
    });
    expect(JSON.stringify(revoke?.data)).not.toContain(tokens.accessToken);
  });

  it('does not revoke when another active connection holds the same TikTok account, and says why', async () => {
    const first = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-zoe' });
    await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-zoe' });

    await deps.disconnect({ accountId: first.accountId, actor: 'admin' });

    const revokes = await deps.queues.accountRevoke.getJobs(['waiting', 'delayed', 'active']);
    expect(revokes.filter((j) => j.data.accountId === first.accountId)).toHaveLength(0);
    const skipped = (await eventsOf(first.accountId)).find((e) => e.type === 'REVOKE_SKIPPED');
    expect(skipped?.data).toMatchObject({ reason: 'shared_open_id' });
    const data = (skipped?.data ?? {}) as { otherActiveConnections?: number };
    expect(data.otherActiveConnections).toBeGreaterThanOrEqual(1);
  });

  it('reconnecting a disconnected account brings back the same row, ACTIVE, with a refresh job', async () => {
    const userId = `user-${randomUUID()}`;
    const first = await connectThroughTikTok(deps, sandbox.control, { userId, openId: 'sbx-open-ava' });
    await deps.disconnect({ accountId: first.accountId, actor: 'user' });
    const again = await connectThroughTikTok(deps, sandbox.control, { userId, openId: 'sbx-open-ava' });
    expect(again.accountId).toBe(first.accountId);
    expect((await deps.readTokenRow(first.accountId))?.status).toBe('ACTIVE');
    const job = await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(first.accountId));
    expect(await job?.getState()).toBe('delayed');
  });
});

describe('reconcileRefreshJobs', () => {
  it('after every key of the queue is gone, restores a job for every ACTIVE account and none for others', async () => {
    // Its own prefix: "FLUSHALL" here is deleting every key under it (other test files share this Redis).
    const isolated = makeDeps({ queuePrefix: `test-${randomUUID()}` });
    const userId = `user-${randomUUID()}`;
    const ids: { id: string; status: string }[] = [];
    for (let i = 0; i < 30; i++) {
      const { payload } = makeTestConnection(keyring, { userId });
      const { accountId } = await isolated.applyConnection(payload);
      ids.push({ id: accountId, status: 'ACTIVE' });
    }
    for (const [i, a] of ids.entries()) {
      if (i % 3 === 1) {
        await isolated.disconnect({ accountId: a.id, actor: 'system' });
        a.status = 'DISCONNECTED';
      } else if (i % 3 === 2) {
        await db.prisma.socialAccount.update({
          where: { id: a.id },
          data: { status: 'REAUTH_REQUIRED', accessTokenCiphertext: null, refreshTokenCiphertext: null },
        });
        a.status = 'REAUTH_REQUIRED';
      }
    }
    const before = await db.prisma.socialAccount.findMany({
      where: { userId },
      select: { id: true, nextRefreshAt: true },
    });
    let cursor = '0';
    do {
      const [next, keys] = await deps.redis.scan(cursor, 'MATCH', `${isolated.queuePrefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await deps.redis.unlink(...keys);
    } while (cursor !== '0');

    const report = await isolated.reconcile({ pageSize: 7 });

    expect(report).toMatchObject({ scanned: expect.any(Number), added: expect.any(Number) });
    for (const a of ids) {
      const job = await isolated.queues.tokenRefresh.getJob(jobIds.tokenRefresh(a.id));
      if (a.status === 'ACTIVE') {
        expect(await job?.getState()).toBe('delayed');
        const due = before.find((b) => b.id === a.id)?.nextRefreshAt?.getTime() ?? 0;
        expect(Math.abs((job?.timestamp ?? 0) + (job?.delay ?? 0) - due)).toBeLessThan(1_000);
      } else {
        expect(job).toBeUndefined();
      }
    }
    const again = await isolated.reconcile({ pageSize: 7, full: true });
    expect(again?.added).toBe(0);
    expect(again?.present).toBe(report?.added);
    await isolated.queues.tokenRefresh.obliterate({ force: true });
  });

  it('replaces a refresh job that failed for good, and yields to a pass already running elsewhere', async () => {
    const { payload } = makeTestConnection(keyring);
    const { accountId } = await deps.applyConnection(payload);
    const job = await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
    // Fail it as a worker would after exhausting its attempts.
    await job?.remove();
    const failed = await deps.queues.tokenRefresh.add(
      'token.refresh',
      { accountId, reason: 'scheduled' },
      {
        jobId: jobIds.tokenRefresh(accountId),
        attempts: 1,
      },
    );
    const connection = createRedisConnection(redisUrl, 'worker', 'lifecycle-test');
    redisConnections.push(connection);
    const worker = new (await import('bullmq')).Worker(
      'token.refresh',
      async (j) => {
        if (j.id !== failed.id) throw new DelayedLater();
        throw new Error('boom');
      },
      { connection, prefix },
    );
    await new Promise<void>((resolve) =>
      worker.on('failed', (j) => {
        if (j?.id === failed.id) resolve();
      }),
    );
    await worker.close();
    expect(await failed.getState()).toBe('failed');

    const report = await deps.reconcile();
    expect(report?.replacedFailed).toBeGreaterThanOrEqual(1);
    expect(await (await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId)))?.getState()).toBe('delayed');

    const held = await deps.redis.set(`${prefix}:refresh-reconcile-lock`, 'other', 'PX', 5_000, 'NX');
    expect(held).toBe('OK');
    expect(await deps.reconcile()).toBeNull();
    await deps.redis.del(`${prefix}:refresh-reconcile-lock`);
  });
});
