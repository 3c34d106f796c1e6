// The refresh policy (in use → ahead of expiry; idle → kept alive, refreshed on demand), the reconciler's watermark,
// the compact job format (and jobs of the legacy one), and the pruning of routine events. Real Postgres, Redis and
// the TikTok sandbox.
import { randomUUID } from 'node:crypto';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import {
  createQueues,
  createRedisConnection,
  jobIds,
  type Queues,
  type RedisClient,
  reconcileMarkKey,
} from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { type SandboxHandle, startSandbox } from '@ttc/tiktok-sandbox';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AccountsOptions, policyNextRefreshAt } from '../src/index.js';
import { connectThroughTikTok, createTestAccounts, makeTestConnection, type TestAccounts } from '../src/testing.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyring = parseKeyring(generateKeyringEntry());
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let db: TestDatabase;
let sandbox: SandboxHandle;
const redisConnections: RedisClient[] = [];
const allQueues: Queues[] = [];
const prefixes: string[] = [];

/** An account service with the policy on (24 h window, idle refresh every 7 days), on its own key prefix. */
function makeDeps(overrides: Partial<AccountsOptions> = {}): TestAccounts {
  const redis = createRedisConnection(redisUrl, 'client', 'policy-test');
  const producer = createRedisConnection(redisUrl, 'producer', 'policy-test');
  redisConnections.push(redis, producer);
  const queuePrefix = overrides.queuePrefix ?? `test-${randomUUID()}`;
  prefixes.push(queuePrefix);
  const queues = createQueues({ connection: producer, prefix: queuePrefix });
  allQueues.push(queues);
  return createTestAccounts({
    prisma: db.prisma,
    keyring,
    redis,
    queues,
    queuePrefix,
    tiktok: createTikTokClient({ ...sandbox.clientOptions, timeoutMs: 3_000 }),
    ...overrides,
    lifecycle: { activeWindowMs: DAY, idleRefreshEveryMs: 7 * DAY, retryBaseMs: 200, ...overrides.lifecycle },
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
});

afterAll(async () => {
  for (const queues of allQueues) await queues.close();
  const redis = redisConnections[0];
  for (const prefix of prefixes) {
    let cursor = '0';
    do {
      const [next, keys] = (await redis?.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)) ?? ['0', []];
      cursor = next;
      if (keys.length > 0) await redis?.unlink(...keys);
    } while (cursor !== '0');
  }
  for (const c of redisConnections) c.disconnect();
  await sandbox?.close();
  await db?.drop();
});

beforeEach(async () => {
  await sandbox.control.reset();
});

const refreshCalls = async () => (await sandbox.control.calls()).filter((c) => c.endpoint === 'refresh').length;
const dueOfJob = async (deps: TestAccounts, accountId: string) => {
  const job = await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
  return (job?.timestamp ?? 0) + (job?.delay ?? 0);
};

describe('policyNextRefreshAt', () => {
  const s = {
    refreshLeadSeconds: 600,
    leadShare: 0.25,
    jitterShare: 0.1,
    activeWindowMs: DAY,
    idleRefreshEveryMs: 7 * DAY,
  };
  const now = Date.parse('2030-01-10T00:00:00Z');
  const obtained = new Date(now - HOUR);
  const base = {
    tokensObtainedAt: obtained,
    accessTokenExpiresAt: new Date(obtained.getTime() + 2 * HOUR),
    refreshTokenExpiresAt: new Date(obtained.getTime() + 180 * DAY),
  };
  const noJitter = { random: () => 0 };

  it('refreshes an account asked for within the window ahead of its expiry', () => {
    const r = policyNextRefreshAt({ ...base, accessRequestedAt: new Date(now - 23 * HOUR) }, now, s, noJitter);
    expect(r).toEqual({ active: true, at: new Date(base.accessTokenExpiresAt.getTime() - 600_000) });
  });

  it('only keeps an idle account alive: every N days, or half way to the refresh token expiry when sooner', () => {
    const idle = policyNextRefreshAt({ ...base, accessRequestedAt: new Date(now - 25 * HOUR) }, now, s, noJitter);
    expect(idle).toEqual({ active: false, at: new Date(obtained.getTime() + 7 * DAY) });
    const never = policyNextRefreshAt({ ...base, accessRequestedAt: null }, now, s, noJitter);
    expect(never.at).toEqual(idle.at);
    const shortChain = policyNextRefreshAt(
      { ...base, refreshTokenExpiresAt: new Date(obtained.getTime() + 4 * DAY), accessRequestedAt: null },
      now,
      s,
      noJitter,
    );
    expect(shortChain.at).toEqual(new Date(obtained.getTime() + 2 * DAY));
    // Jitter only ever moves it earlier, by at most 10 %.
    const jittered = policyNextRefreshAt({ ...base, accessRequestedAt: null }, now, s, { random: () => 1 });
    expect(jittered.at.getTime()).toBe(obtained.getTime() + 7 * DAY - 0.7 * DAY);
  });

  it('never refreshes an idle account sooner than an in-use one, and is off with a 0-hour window', () => {
    const tiny = { ...base, refreshTokenExpiresAt: new Date(obtained.getTime() + HOUR), accessRequestedAt: null };
    expect(policyNextRefreshAt(tiny, now, s, noJitter).at).toEqual(
      new Date(base.accessTokenExpiresAt.getTime() - 600_000),
    );
    const off = policyNextRefreshAt({ ...base, accessRequestedAt: null }, now, { ...s, activeWindowMs: 0 }, noJitter);
    expect(off.active).toBe(true);
    expect(off.at).toEqual(new Date(base.accessTokenExpiresAt.getTime() - 600_000));
    // An on-demand refresh counts as a use.
    expect(
      policyNextRefreshAt({ ...base, accessRequestedAt: null }, now, s, { active: true, ...noJitter }).active,
    ).toBe(true);
  });
});

describe('refresh policy, end to end', () => {
  it('a scheduled run for an idle account makes no TikTok call and moves its refresh to the keep-alive date', async () => {
    const deps = makeDeps();
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-ava' });
    // Due now under the in-use rule (as a connection schedules it), but nobody has asked for its token.
    await db.prisma.socialAccount.update({ where: { id: accountId }, data: { nextRefreshAt: new Date() } });
    const callsBefore = await refreshCalls();
    const result = await deps.refresh(accountId, { reason: 'scheduled', schedule: false });
    expect(result.outcome).toBe('not_due');
    expect(await refreshCalls()).toBe(callsBefore);
    const row = await deps.readTokenRow(accountId);
    const obtained = row?.tokensObtainedAt.getTime() ?? 0;
    expect(row?.nextRefreshAt?.getTime()).toBeGreaterThan(obtained + 6 * DAY);
    expect(row?.nextRefreshAt?.getTime()).toBeLessThanOrEqual(obtained + 7 * DAY);
    expect(deps.refreshJobs.nextRunAt(row)).toEqual(row?.nextRefreshAt);
  });

  it('an idle account whose access token expired is refreshed on demand, once, and is then in use', async () => {
    const deps = makeDeps();
    // Another process: same prefix (same Redis lock), its own single-flight map.
    const other = makeDeps({ queuePrefix: deps.queuePrefix });
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-ben' });
    // Idle and expired: the policy let the access token lapse.
    await db.prisma.socialAccount.update({
      where: { id: accountId },
      data: {
        accessTokenExpiresAt: new Date(Date.now() - 60_000),
        tokensObtainedAt: new Date(Date.now() - 2 * HOUR - 60_000),
        nextRefreshAt: new Date(Date.now() + 5 * DAY),
      },
    });
    const callsBefore = await refreshCalls();
    // Two callers in this process and one in another: one TikTok call (single flight + the Redis lock).
    const [a, b, c] = await Promise.all([
      deps.getFreshAccessToken(accountId),
      deps.getFreshAccessToken(accountId),
      other.getFreshAccessToken(accountId),
    ]);
    expect(await refreshCalls()).toBe(callsBefore + 1);
    expect(a.accessToken).toBe(b.accessToken);
    expect(c.accessToken).toBe(a.accessToken);
    expect(a.expiresAt.getTime()).toBeGreaterThan(Date.now() + HOUR);
    const row = await deps.readTokenRow(accountId);
    expect(row?.accessRequestedAt).not.toBeNull();
    // In use now: next refresh ahead of the new expiry, and the job moved there.
    const expires = row?.accessTokenExpiresAt?.getTime() ?? 0;
    expect(row?.nextRefreshAt?.getTime()).toBeLessThanOrEqual(expires - 600_000);
    expect(row?.nextRefreshAt?.getTime()).toBeGreaterThan(expires - 2 * 600_000);
    expect(Math.abs((await dueOfJob(deps, accountId)) - (row?.nextRefreshAt?.getTime() ?? 0))).toBeLessThan(1_000);
  });

  it('asking for a valid token of an idle account moves its refresh ahead of expiry; asking again writes nothing', async () => {
    const deps = makeDeps();
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-chloe' });
    const keepAlive = new Date(Date.now() + 6 * DAY);
    await db.prisma.socialAccount.update({ where: { id: accountId }, data: { nextRefreshAt: keepAlive } });
    await deps.refreshJobs.schedule({ id: accountId, nextRefreshAt: keepAlive });
    const first = await deps.getFreshAccessToken(accountId);
    expect(first.refreshed).toBe(false);
    const row = await deps.readTokenRow(accountId);
    const expires = row?.accessTokenExpiresAt?.getTime() ?? 0;
    expect(row?.nextRefreshAt?.getTime()).toBeLessThan(expires);
    expect(Math.abs((await dueOfJob(deps, accountId)) - (row?.nextRefreshAt?.getTime() ?? 0))).toBeLessThan(1_000);
    const recorded = row?.accessRequestedAt;
    expect(recorded).toBeInstanceOf(Date);

    // Within the touch interval nothing is written again (the time stays the first request's).
    await deps.getFreshAccessToken(accountId);
    expect((await deps.readTokenRow(accountId))?.accessRequestedAt).toEqual(recorded);
    // Once it is older than the interval, the next request records it again.
    await db.prisma.socialAccount.update({
      where: { id: accountId },
      data: { accessRequestedAt: new Date(Date.now() - 11 * 60_000) },
    });
    await deps.getFreshAccessToken(accountId);
    const later = (await deps.readTokenRow(accountId))?.accessRequestedAt?.getTime() ?? 0;
    expect(later).toBeGreaterThan((recorded?.getTime() ?? 0) - 1);
    expect(Date.now() - later).toBeLessThan(60_000);
  });

  it('an account in use is refreshed by its scheduled run as before', async () => {
    const deps = makeDeps();
    const { accountId } = await connectThroughTikTok(deps, sandbox.control, { openId: 'sbx-open-dev' });
    await db.prisma.socialAccount.update({
      where: { id: accountId },
      data: { accessRequestedAt: new Date(Date.now() - HOUR), nextRefreshAt: new Date() },
    });
    const result = await deps.refresh(accountId, { reason: 'scheduled', schedule: false });
    expect(result.outcome).toBe('refreshed');
    const row = result.account;
    expect(row?.nextRefreshAt?.getTime()).toBeLessThan(row?.accessTokenExpiresAt?.getTime() ?? 0);
    const [event] = await db.prisma.accountEvent.findMany({
      where: { accountId, type: 'REFRESHED' },
      orderBy: { id: 'desc' },
      take: 1,
    });
    expect(event?.data).toMatchObject({ policy: 'in-use' });
  });
});

describe('reconciler watermark', () => {
  it('checks only changed rows while the watermark is intact, and every row once it is gone', async () => {
    const deps = makeDeps();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await deps.applyConnection(makeTestConnection(keyring).payload)).accountId);
    const first = await deps.reconcile({ pageSize: 4 });
    expect(first?.mode).toBe('full');
    const [stale, changed] = ids as [string, string];
    // Lose two jobs; only one of the two rows is written afterwards.
    await deps.queues.tokenRefresh.remove(jobIds.tokenRefresh(stale));
    await deps.queues.tokenRefresh.remove(jobIds.tokenRefresh(changed));
    await db.prisma.$executeRaw`UPDATE social_accounts SET updated_at = now() - interval '1 day'
      WHERE id = ${stale}::uuid`;
    await db.prisma.$executeRaw`UPDATE social_accounts SET updated_at = now() WHERE id = ${changed}::uuid`;
    const quick = await deps.reconcile({ pageSize: 4 });
    expect(quick?.mode).toBe('changed');
    expect(quick?.added).toBe(1);
    expect(await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(changed))).toBeDefined();
    expect(await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(stale))).toBeUndefined();
    // Redis lost its data (the watermark with it): the next pass checks every account.
    await deps.redis.del(reconcileMarkKey(deps.queuePrefix));
    const full = await deps.reconcile({ pageSize: 4 });
    expect(full?.mode).toBe('full');
    expect(full?.added).toBe(1);
    expect(await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(stale))).toBeDefined();
  });
});

describe('legacy refresh jobs', () => {
  it('counts a job of the old format as present and cancels it with the account', async () => {
    const deps = makeDeps();
    const { accountId } = await deps.applyConnection(makeTestConnection(keyring).payload);
    await deps.queues.tokenRefresh.remove(jobIds.tokenRefresh(accountId));
    // The format before: `refresh-<uuid>`, `{ accountId }`, BullMQ options in the job.
    await deps.queues.tokenRefresh.add(
      'token.refresh',
      { accountId },
      { jobId: jobIds.legacyTokenRefresh(accountId), delay: HOUR, attempts: 10, removeOnComplete: true },
    );
    // (Accounts of the other tests have no job under this prefix: the pass adds theirs, not this one's.)
    const report = await deps.reconcile({ full: true });
    expect(report?.present).toBe(1);
    expect(await deps.queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId))).toBeUndefined();
    expect(await deps.refreshJobs.cancel(accountId)).toBe(true);
    expect(await deps.queues.tokenRefresh.getJob(jobIds.legacyTokenRefresh(accountId))).toBeUndefined();
  });
});

describe('pruneEvents', () => {
  it('deletes routine REFRESHED events past the retention, in bounded batches, and keeps every change of state', async () => {
    const deps = makeDeps();
    const { accountId } = await deps.applyConnection(makeTestConnection(keyring).payload);
    const old = new Date(Date.now() - 40 * DAY);
    const recent = new Date(Date.now() - 5 * DAY);
    const rows: { type: string; data: object; createdAt: Date }[] = [
      { type: 'REFRESHED', data: { reason: 'scheduled' }, createdAt: old },
      { type: 'REFRESHED', data: { reason: 'scheduled' }, createdAt: old },
      { type: 'REFRESHED', data: { reason: 'scheduled', recovered: true }, createdAt: old },
      { type: 'REFRESH_FAILED', data: { code: 'X' }, createdAt: old },
      { type: 'REAUTH_REQUIRED', data: {}, createdAt: old },
      { type: 'RECONNECTED', data: {}, createdAt: old },
      { type: 'REFRESH_TOKEN_EXPIRING', data: { tokenVersion: 1 }, createdAt: old },
      { type: 'REFRESHED', data: { reason: 'scheduled' }, createdAt: old },
      { type: 'REFRESHED', data: { reason: 'scheduled' }, createdAt: recent },
    ];
    for (const r of rows) {
      await db.prisma.accountEvent.create({
        data: { accountId, type: r.type as 'REFRESHED', message: 'x', data: r.data, createdAt: r.createdAt },
      });
    }
    const before = await db.prisma.accountEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });

    const report = await deps.pruneEvents({ retentionDays: 30, batchSize: 2 });
    expect(report.deleted).toBeGreaterThanOrEqual(3);
    expect(report.batches).toBeGreaterThan(1);

    const after = await db.prisma.accountEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
    const gone = before.filter((e) => !after.some((a) => a.id === e.id));
    expect(gone).toHaveLength(3);
    for (const e of gone) {
      expect(e.type).toBe('REFRESHED');
      expect(e.createdAt.getTime()).toBe(old.getTime());
      expect(e.data).toEqual({ reason: 'scheduled' });
    }
    expect(after.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'CONNECTED',
        'REFRESH_FAILED',
        'REAUTH_REQUIRED',
        'RECONNECTED',
        'REFRESH_TOKEN_EXPIRING',
        'REFRESHED',
      ]),
    );
    expect(after.filter((e) => e.type === 'REFRESHED')).toHaveLength(2);

    // A second pass starts after the first one's watermark and finds nothing more.
    const again = await deps.pruneEvents({ retentionDays: 30, batchSize: 2 });
    expect(again.deleted).toBe(0);
  });
});
