import { randomUUID } from 'node:crypto';
import { decryptToken, generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import {
  connectSessionKey,
  createQueues,
  createRedisConnection,
  jobIds,
  type Queues,
  type RedisClient,
  readConnectResult,
} from '@ttc/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountError, type Accounts, createAccounts, tokenAad } from '../src/index.js';
import { makeTestConnection } from '../src/testing.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-${randomUUID()}`;
const keyring = parseKeyring(generateKeyringEntry());
let db: TestDatabase;
let redis: RedisClient;
let producer: RedisClient;
let queues: Queues;
let accounts: Accounts;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createRedisConnection(redisUrl, 'client', 'accounts-test');
  producer = createRedisConnection(redisUrl, 'producer', 'accounts-test');
  queues = createQueues({ connection: producer, prefix });
  accounts = createAccounts({ prisma: db.prisma, keyring, redis, queues, queuePrefix: prefix });
});

afterAll(async () => {
  for (const queue of queues?.all() ?? []) await queue.obliterate({ force: true });
  await queues?.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis?.disconnect();
  producer?.disconnect();
  await db?.drop();
});

const at = (iso: string | Date, offsetMs = 0) => new Date(new Date(iso).getTime() + offsetMs).toISOString();

async function rowsOf(userId: string) {
  return db.prisma.socialAccount.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
}

async function eventsOf(accountId: string) {
  return db.prisma.accountEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
}

/** A live connect session for `payload`, as the gateway creates it: the worker records its outcome there. */
async function openConnectSession(sessionRef: string) {
  await redis.hset(connectSessionKey(prefix, sessionRef), { userId: 'someone' });
  await redis.expire(connectSessionKey(prefix, sessionRef), 600);
}

describe('applyConnection', () => {
  it('adds a new account with a CONNECTED event and reports "added"', async () => {
    const { payload, accessToken, refreshToken } = makeTestConnection(keyring);
    await openConnectSession(payload.connectSessionId);
    const outcome = await accounts.applyConnection(payload);

    expect(outcome).toMatchObject({ connectionId: payload.connectionId, outcome: 'added', username: 'test.account' });
    const [row, ...rest] = await rowsOf(payload.userId);
    expect(rest).toHaveLength(0);
    expect(row).toMatchObject({ id: outcome.accountId, openId: payload.openId, status: 'ACTIVE', tokenVersion: 0 });
    expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    // The ciphertexts are stored as the gateway made them and decrypt with the shared AAD.
    const aad = tokenAad(payload);
    expect(decryptToken(keyring, row?.accessTokenCiphertext ?? '', aad)).toBe(accessToken);
    expect(decryptToken(keyring, row?.refreshTokenCiphertext ?? '', aad)).toBe(refreshToken);
    expect(row?.connectedAt.toISOString()).toBe(payload.obtainedAt);
    expect(row?.tokensObtainedAt.toISOString()).toBe(payload.obtainedAt);
    // 24-hour token: the lead is the full 600 s, minus up to 10 % jitter.
    const expires = new Date(payload.accessTokenExpiresAt).getTime();
    expect(row?.nextRefreshAt?.getTime()).toBeLessThanOrEqual(expires - 600_000);
    expect(row?.nextRefreshAt?.getTime()).toBeGreaterThanOrEqual(expires - 660_000);

    const events = await eventsOf(outcome.accountId);
    expect(events.map((e) => e.type)).toEqual(['CONNECTED']);
    expect(events[0]?.data).toMatchObject({ connectionId: payload.connectionId });
    // The outcome is recorded in the connect session, where the connect page reads it; it carries no secret.
    expect(await readConnectResult(redis, prefix, payload.connectSessionId, payload.connectionId)).toEqual({
      kind: 'done',
      outcome: 'added',
      accountId: outcome.accountId,
      openId: payload.openId,
      displayName: outcome.displayName,
      username: outcome.username,
      at: expect.any(String),
    });
  });

  it('adds a second row when the same user connects a different TikTok account', async () => {
    const first = makeTestConnection(keyring);
    const second = makeTestConnection(keyring, { userId: first.payload.userId, displayName: 'Second' });
    const a = await accounts.applyConnection(first.payload);
    const b = await accounts.applyConnection(second.payload);

    expect([a.outcome, b.outcome]).toEqual(['added', 'added']);
    expect(a.accountId).not.toBe(b.accountId);
    const rows = await rowsOf(first.payload.userId);
    expect(rows.map((r) => r.openId)).toEqual([first.payload.openId, second.payload.openId]);
    expect(rows[0]?.accessTokenCiphertext).toBe(first.payload.accessTokenCiphertext);
    expect(rows[0]?.displayName).toBe('Test Account');
  });

  it('reconnects the same account: one row, RECONNECTED, new tokens and profile, "reconnected"', async () => {
    const first = makeTestConnection(keyring, { obtainedAt: at(new Date(), -60_000) });
    const added = await accounts.applyConnection(first.payload);
    const again = makeTestConnection(keyring, {
      userId: first.payload.userId,
      openId: first.payload.openId,
      displayName: 'Renamed',
      scopes: ['user.info.basic'],
    });
    const outcome = await accounts.applyConnection(again.payload);

    expect(outcome).toMatchObject({ accountId: added.accountId, outcome: 'reconnected', displayName: 'Renamed' });
    const rows = await rowsOf(first.payload.userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      accessTokenCiphertext: again.payload.accessTokenCiphertext,
      refreshTokenCiphertext: again.payload.refreshTokenCiphertext,
      displayName: 'Renamed',
      scopes: ['user.info.basic'],
      tokenVersion: 1,
    });
    expect((await eventsOf(added.accountId)).map((e) => e.type)).toEqual(['CONNECTED', 'RECONNECTED']);
  });

  it('applies the same payload twice as one row and one event, with the same outcome', async () => {
    const { payload } = makeTestConnection(keyring);
    const first = await accounts.applyConnection(payload);
    const before = (await rowsOf(payload.userId))[0];
    const second = await accounts.applyConnection(payload);

    expect(second).toEqual(first);
    const rows = await rowsOf(payload.userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.tokenVersion).toBe(before?.tokenVersion);
    expect(rows[0]?.updatedAt).toEqual(before?.updatedAt);
    expect((await eventsOf(first.accountId)).map((e) => e.type)).toEqual(['CONNECTED']);
  });

  it('applies the same payload concurrently as one row and one event', async () => {
    const { payload } = makeTestConnection(keyring);
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => accounts.applyConnection(payload)));

    expect(new Set(outcomes.map((o) => o.accountId)).size).toBe(1);
    expect(outcomes.every((o) => o.outcome === 'added')).toBe(true);
    expect(await rowsOf(payload.userId)).toHaveLength(1);
    expect((await eventsOf(outcomes[0]?.accountId ?? '')).map((e) => e.type)).toEqual(['CONNECTED']);
  });

  it('keeps one row with the newest tokens when two connections of the same new account race', async () => {
    const older = makeTestConnection(keyring, { obtainedAt: at(new Date(), -5_000) });
    const newer = makeTestConnection(keyring, {
      userId: older.payload.userId,
      openId: older.payload.openId,
      obtainedAt: at(new Date()),
    });
    const outcomes = await Promise.all([
      accounts.applyConnection(older.payload),
      accounts.applyConnection(newer.payload),
    ]);

    expect(outcomes[0]?.accountId).toBe(outcomes[1]?.accountId);
    const rows = await rowsOf(older.payload.userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.accessTokenCiphertext).toBe(newer.payload.accessTokenCiphertext);
    expect(rows[0]?.refreshTokenCiphertext).toBe(newer.payload.refreshTokenCiphertext);
    const types = (await eventsOf(rows[0]?.id ?? '')).map((e) => e.type);
    expect(types[0]).toBe('CONNECTED');
    expect(types.filter((t) => t === 'CONNECTED')).toHaveLength(1);
  });

  it('does not let an older payload processed late overwrite newer tokens', async () => {
    const newer = makeTestConnection(keyring, { obtainedAt: at(new Date()) });
    const older = makeTestConnection(keyring, {
      userId: newer.payload.userId,
      openId: newer.payload.openId,
      obtainedAt: at(newer.payload.obtainedAt, -30_000),
      displayName: 'Stale name',
    });
    const applied = await accounts.applyConnection(newer.payload);
    const late = await accounts.applyConnection(older.payload);

    expect(late).toMatchObject({ accountId: applied.accountId, outcome: 'reconnected', displayName: 'Test Account' });
    const [row] = await rowsOf(newer.payload.userId);
    expect(row).toMatchObject({
      accessTokenCiphertext: newer.payload.accessTokenCiphertext,
      refreshTokenCiphertext: newer.payload.refreshTokenCiphertext,
      displayName: 'Test Account',
      tokenVersion: 0,
    });
    expect((await eventsOf(applied.accountId)).map((e) => e.type)).toEqual(['CONNECTED']);
  });

  it('does not let a connection overwrite tokens refreshed after it was obtained', async () => {
    const { payload } = makeTestConnection(keyring, { obtainedAt: at(new Date(), -60_000) });
    const added = await accounts.applyConnection(payload);
    await db.prisma.socialAccount.update({
      where: { id: added.accountId },
      // What a refresh writes: the new tokens and when they were obtained.
      data: { accessTokenCiphertext: 'refreshed', lastRefreshedAt: new Date(), tokensObtainedAt: new Date() },
    });
    const late = makeTestConnection(keyring, {
      userId: payload.userId,
      openId: payload.openId,
      obtainedAt: at(new Date(), -30_000),
    });
    await accounts.applyConnection(late.payload);

    expect((await rowsOf(payload.userId))[0]?.accessTokenCiphertext).toBe('refreshed');
  });

  it('keeps the same openId under another user in a separate row and leaves that row untouched', async () => {
    const mine = makeTestConnection(keyring);
    const theirs = makeTestConnection(keyring, { openId: mine.payload.openId, displayName: 'Theirs' });
    const myOther = makeTestConnection(keyring, { userId: mine.payload.userId });
    await accounts.applyConnection(theirs.payload);
    await accounts.applyConnection(myOther.payload);
    const theirRowBefore = (await rowsOf(theirs.payload.userId))[0];
    const myOtherBefore = (await rowsOf(mine.payload.userId))[0];

    const outcome = await accounts.applyConnection(mine.payload);
    // And a reconnection of mine still leaves the others as they were.
    const mineAgain = makeTestConnection(keyring, { userId: mine.payload.userId, openId: mine.payload.openId });
    await accounts.applyConnection(mineAgain.payload);

    expect(outcome.outcome).toBe('added');
    expect(outcome.accountId).not.toBe(theirRowBefore?.id);
    expect(await rowsOf(theirs.payload.userId)).toEqual([theirRowBefore]);
    const mineRows = await rowsOf(mine.payload.userId);
    expect(mineRows).toHaveLength(2);
    expect(mineRows[0]).toEqual(myOtherBefore);
    expect(mineRows[1]?.accessTokenCiphertext).toBe(mineAgain.payload.accessTokenCiphertext);
  });

  it('brings a DISCONNECTED account back as the same ACTIVE row', async () => {
    const { payload } = makeTestConnection(keyring, { obtainedAt: at(new Date(), -60_000) });
    const added = await accounts.applyConnection(payload);
    await db.prisma.socialAccount.update({
      where: { id: added.accountId },
      data: { refreshFailureCount: 3, lastError: 'boom', lastErrorAt: new Date() },
    });
    await accounts.disconnect({ accountId: added.accountId, actor: 'user' });
    const back = makeTestConnection(keyring, { userId: payload.userId, openId: payload.openId });
    const outcome = await accounts.applyConnection(back.payload);

    expect(outcome).toMatchObject({ accountId: added.accountId, outcome: 'reconnected' });
    const rows = await rowsOf(payload.userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'ACTIVE',
      disconnectedAt: null,
      refreshFailureCount: 0,
      lastError: null,
      accessTokenCiphertext: back.payload.accessTokenCiphertext,
    });
    expect((await eventsOf(added.accountId)).map((e) => e.type)).toEqual(['CONNECTED', 'DISCONNECTED', 'RECONNECTED']);
  });

  it('does not bring back an account disconnected after the connection was obtained', async () => {
    const { payload } = makeTestConnection(keyring, { obtainedAt: at(new Date(), -60_000) });
    const added = await accounts.applyConnection(payload);
    await accounts.disconnect({ accountId: added.accountId, actor: 'user' });
    const late = makeTestConnection(keyring, {
      userId: payload.userId,
      openId: payload.openId,
      obtainedAt: at(new Date(), -30_000),
    });
    await accounts.applyConnection(late.payload);

    const [row] = await rowsOf(payload.userId);
    expect(row).toMatchObject({ status: 'DISCONNECTED', accessTokenCiphertext: null, refreshTokenCiphertext: null });
  });

  it('rejects a malformed payload with ACCOUNT_INVALID_PAYLOAD without echoing its values', async () => {
    const { payload, accessToken } = makeTestConnection(keyring);
    const bad = { ...payload, accessTokenCiphertext: accessToken };
    const error = await accounts.applyConnection(bad).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AccountError);
    expect(error).toMatchObject({ code: 'ACCOUNT_INVALID_PAYLOAD' });
    expect((error as Error).message).toContain('accessTokenCiphertext');
    expect((error as Error).message).not.toContain(accessToken);
    expect(await rowsOf(payload.userId)).toHaveLength(0);
  });
});

describe('connect outcomes', () => {
  it('records the outcome in a live connect session only, never recreating an expired one', async () => {
    const { payload } = makeTestConnection(keyring);
    // No session (it expired): the account is stored, and no session key appears without a TTL.
    const outcome = await accounts.applyConnection(payload);
    expect(outcome.outcome).toBe('added');
    expect(await redis.exists(connectSessionKey(prefix, payload.connectSessionId))).toBe(0);

    // Once the session exists, a replay of the same connection records the same outcome there.
    await openConnectSession(payload.connectSessionId);
    await accounts.applyConnection(payload);
    expect(await readConnectResult(redis, prefix, payload.connectSessionId, payload.connectionId)).toMatchObject({
      kind: 'done',
      outcome: 'added',
    });
  });

  it('reads an unparsable outcome as null', async () => {
    const ref = `ref-${randomUUID()}`;
    const id = randomUUID();
    await redis.hset(connectSessionKey(prefix, ref), `result:${id}`, '{not json');
    await redis.expire(connectSessionKey(prefix, ref), 60);
    expect(await readConnectResult(redis, prefix, ref, id)).toBeNull();
  });
});

describe('listUserAccounts and getAccount', () => {
  it('lists a user’s accounts newest first without any token field', async () => {
    const first = makeTestConnection(keyring);
    const second = makeTestConnection(keyring, { userId: first.payload.userId });
    const gone = makeTestConnection(keyring, { userId: first.payload.userId });
    const a = await accounts.applyConnection(first.payload);
    const b = await accounts.applyConnection(second.payload);
    const c = await accounts.applyConnection(gone.payload);
    await accounts.disconnect({ accountId: c.accountId, actor: 'admin' });

    const listed = await accounts.listUserAccounts(first.payload.userId);
    expect(listed.map((x) => x.id)).toEqual([b.accountId, a.accountId]);
    const all = await accounts.listUserAccounts(first.payload.userId, { includeDisconnected: true });
    expect(all.map((x) => x.id)).toEqual([c.accountId, b.accountId, a.accountId]);

    const expectedKeys = [
      'id',
      'userId',
      'openId',
      'unionId',
      'displayName',
      'username',
      'avatarUrl',
      'scopes',
      'status',
      'accessTokenExpiresAt',
      'refreshTokenExpiresAt',
      'nextRefreshAt',
      'lastRefreshedAt',
      'lastError',
      'connectedAt',
      'disconnectedAt',
      'createdAt',
      'updatedAt',
    ].sort();
    for (const summary of [...all, await accounts.get(a.accountId)]) {
      expect(Object.keys(summary ?? {}).sort()).toEqual(expectedKeys);
      expect(JSON.stringify(summary)).not.toContain('v1.');
    }
    expect(await accounts.listUserAccounts(`nobody-${randomUUID()}`)).toEqual([]);
  });

  it('returns null for an unknown id and ACCOUNT_INVALID_ID for a malformed one', async () => {
    expect(await accounts.get(randomUUID())).toBeNull();
    await expect(accounts.get('not-a-uuid')).rejects.toMatchObject({ code: 'ACCOUNT_INVALID_ID' });
  });
});

describe('disconnectAccount', () => {
  it('wipes the tokens, sets DISCONNECTED and records who did it', async () => {
    const { payload } = makeTestConnection(keyring);
    const added = await accounts.applyConnection(payload);
    const summary = await accounts.disconnect({
      accountId: added.accountId,
      userId: payload.userId,
      actor: 'user',
      reason: 'clicked disconnect',
    });

    expect(summary).toMatchObject({ id: added.accountId, status: 'DISCONNECTED', nextRefreshAt: null });
    expect(summary.disconnectedAt).toBeInstanceOf(Date);
    const row = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: added.accountId } });
    expect(row).toMatchObject({ accessTokenCiphertext: null, refreshTokenCiphertext: null, tokenVersion: 1 });
    const events = await eventsOf(added.accountId);
    expect(events.map((e) => e.type)).toEqual(['CONNECTED', 'DISCONNECTED']);
    expect(events[1]?.data).toEqual({ actor: 'user', reason: 'clicked disconnect' });
  });

  it('is idempotent: a second disconnect returns the account unchanged and records nothing', async () => {
    const { payload } = makeTestConnection(keyring);
    const added = await accounts.applyConnection(payload);
    const first = await accounts.disconnect({ accountId: added.accountId, actor: 'admin' });
    const second = await accounts.disconnect({ accountId: added.accountId, actor: 'admin' });

    expect(second).toEqual(first);
    expect((await eventsOf(added.accountId)).map((e) => e.type)).toEqual(['CONNECTED', 'DISCONNECTED']);
  });

  it('refuses another user’s account with ACCOUNT_NOT_FOUND and leaves it untouched', async () => {
    const { payload } = makeTestConnection(keyring);
    const added = await accounts.applyConnection(payload);
    const before = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: added.accountId } });

    await expect(
      accounts.disconnect({ accountId: added.accountId, userId: 'someone-else', actor: 'user' }),
    ).rejects.toMatchObject({ name: 'AccountError', code: 'ACCOUNT_NOT_FOUND' });
    await expect(accounts.disconnect({ accountId: randomUUID(), actor: 'admin' })).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
    });
    await expect(accounts.disconnect({ accountId: 'nope', actor: 'admin' })).rejects.toMatchObject({
      code: 'ACCOUNT_INVALID_ID',
    });
    expect(await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: added.accountId } })).toEqual(before);
  });
});

describe('the refresh job of a connection', () => {
  const dueAt = async (accountId: string) => {
    const job = await queues.tokenRefresh.getJob(jobIds.tokenRefresh(accountId));
    return { state: await job?.getState(), due: (job?.timestamp ?? 0) + (job?.delay ?? 0) };
  };

  it('is added for a new account, moved by a reconnect, and never replaced by an add for a "new" account', async () => {
    const obtained = new Date(Date.now() - 60_000);
    const first = makeTestConnection(keyring, {
      obtainedAt: obtained.toISOString(),
      accessTokenExpiresAt: at(obtained, 24 * 3600_000),
    });
    await openConnectSession(first.payload.connectSessionId);
    const added = await accounts.applyConnection(first.payload);
    const rowAfterAdd = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: added.accountId } });
    const afterAdd = await dueAt(added.accountId);
    expect(afterAdd.state).toBe('delayed');
    expect(Math.abs(afterAdd.due - (rowAfterAdd.nextRefreshAt?.getTime() ?? 0))).toBeLessThan(1_000);

    // A reconnect with tokens that expire an hour from now: the same job, moved to the new time.
    const again = makeTestConnection(keyring, {
      userId: first.payload.userId,
      openId: first.payload.openId,
      obtainedAt: new Date().toISOString(),
      accessTokenExpiresAt: at(new Date(), 3600_000),
    });
    await openConnectSession(again.payload.connectSessionId);
    expect((await accounts.applyConnection(again.payload)).outcome).toBe('reconnected');
    const rowAfterReconnect = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: added.accountId } });
    const afterReconnect = await dueAt(added.accountId);
    expect(afterReconnect.state).toBe('delayed');
    expect(afterReconnect.due).toBeLessThan(afterAdd.due - 3600_000);
    expect(Math.abs(afterReconnect.due - (rowAfterReconnect.nextRefreshAt?.getTime() ?? 0))).toBeLessThan(1_000);

    // The shortcut for a row just inserted adds without looking: an existing job stays as it is.
    const far = new Date(Date.now() + 30 * 86_400_000);
    await accounts.refreshJobs.schedule({ id: added.accountId, nextRefreshAt: far }, { newAccount: true });
    expect(await dueAt(added.accountId)).toEqual(afterReconnect);
  });
});
