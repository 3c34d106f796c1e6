// The account API upstream apps call with their gateway API key: list, read, disconnect, erase, export. Real
// Postgres, Redis, the TikTok sandbox, and (for erasure) a real account.revoke worker.
import { randomUUID } from 'node:crypto';
import { createAccounts } from '@ttc/accounts';
import { tiktokClientOptions } from '@ttc/config';
import { createRedisConnection, jobIds, QueueNames } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { SANDBOX_USERS } from '@ttc/tiktok-sandbox';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connectAndShow, dumpKey, type Harness, scanKeys, startHarness } from './harness.js';

let h: Harness;
const [ava, ben, cleo, dev] = SANDBOX_USERS as [
  (typeof SANDBOX_USERS)[0],
  (typeof SANDBOX_USERS)[0],
  (typeof SANDBOX_USERS)[0],
  (typeof SANDBOX_USERS)[0],
];

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

/** A user with the given TikTok accounts connected through the sandbox flow; returns their rows by openId. */
async function userWith(...openIds: string[]) {
  const session = await h.openSession();
  for (const openId of openIds) await connectAndShow(h, session.browser, openId);
  const rows = await h.db.prisma.socialAccount.findMany({ where: { userId: session.userId } });
  const byOpenId = (openId: string) => {
    const row = rows.find((r) => r.openId === openId);
    if (!row) throw new Error(`no account for ${openId}`);
    return row;
  };
  return { ...session, rows, byOpenId };
}

const ACCOUNT_FIELDS = [
  'accessTokenExpiresAt',
  'avatarUrl',
  'connectedAt',
  'createdAt',
  'disconnectedAt',
  'displayName',
  'id',
  'lastError',
  'nextRefreshAt',
  'openId',
  'refreshTokenExpiresAt',
  'scopes',
  'status',
  'unionId',
  'updatedAt',
  'userId',
  'username',
];

describe('GET /v1/users/:userId/accounts and GET /v1/accounts/:id', () => {
  it("lists a user's accounts with every field, newest first, and filters by status", async () => {
    const user = await userWith(ava.openId, ben.openId, cleo.openId);
    await h.db.prisma.socialAccount.update({
      where: { id: user.byOpenId(ben.openId).id },
      data: { status: 'REAUTH_REQUIRED', accessTokenCiphertext: null, refreshTokenCiphertext: null },
    });
    expect((await api(h, 'DELETE', `/v1/accounts/${user.byOpenId(cleo.openId).id}`)).statusCode).toBe(200);

    const all = await api(h, 'GET', `/v1/users/${encodeURIComponent(user.userId)}/accounts`);
    expect(all.statusCode).toBe(200);
    expect(all.headers['cache-control']).toBe('no-store');
    const { accounts } = all.json();
    expect(accounts.map((a: { openId: string }) => a.openId)).toEqual([cleo.openId, ben.openId, ava.openId]);
    expect(Object.keys(accounts[2]).sort()).toEqual(ACCOUNT_FIELDS);
    expect(accounts[2]).toMatchObject({
      userId: user.userId,
      displayName: ava.displayName,
      username: ava.username,
      status: 'ACTIVE',
      scopes: expect.arrayContaining(['user.info.basic']),
      disconnectedAt: null,
    });
    expect(new Date(accounts[2].accessTokenExpiresAt).toISOString()).toBe(accounts[2].accessTokenExpiresAt);

    for (const [status, openId] of [
      ['ACTIVE', ava.openId],
      ['REAUTH_REQUIRED', ben.openId],
      ['DISCONNECTED', cleo.openId],
    ] as const) {
      const res = await api(h, 'GET', `/v1/users/${encodeURIComponent(user.userId)}/accounts?status=${status}`);
      expect(
        res.json().accounts.map((a: { openId: string }) => a.openId),
        status,
      ).toEqual([openId]);
    }

    const one = await api(h, 'GET', `/v1/accounts/${user.byOpenId(ava.openId).id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(accounts[2]);
    // Never a token or ciphertext.
    const row = user.byOpenId(ava.openId);
    expect(all.body + one.body).not.toContain(row.accessTokenCiphertext as string);
    expect(all.body + one.body).not.toMatch(/(act|rft)\.[A-Za-z0-9]/);
  });

  it('answers an unknown user with an empty list', async () => {
    const res = await api(h, 'GET', `/v1/users/nobody-${randomUUID()}/accounts`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accounts: [] });
  });

  it('refuses an unknown status filter and a malformed user id with 400 GW_VALIDATION', async () => {
    for (const url of [
      '/v1/users/u1/accounts?status=active',
      '/v1/users/u1/accounts?status=GONE',
      '/v1/users/u1/accounts?status=ACTIVE&status=DISCONNECTED',
      `/v1/users/${encodeURIComponent('bad\u0001id')}/accounts`,
      `/v1/users/${'u'.repeat(256)}/accounts`,
    ]) {
      const res = await api(h, 'GET', url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe('GW_VALIDATION');
    }
  });

  it('answers an unknown or malformed account id with 404 GW_ACCOUNT_NOT_FOUND', async () => {
    for (const id of [randomUUID(), 'not-a-uuid', '1']) {
      for (const method of ['GET', 'DELETE'] as const) {
        const res = await api(h, method, `/v1/accounts/${id}`);
        expect(res.statusCode, `${method} ${id}`).toBe(404);
        expect(res.json()).toEqual({ error: { code: 'GW_ACCOUNT_NOT_FOUND', message: expect.any(String) } });
      }
    }
  });

  it('refuses every account route without the API key or with a wrong one (401 GW_UNAUTHORIZED)', async () => {
    const id = randomUUID();
    const routes = [
      ['GET', '/v1/users/u1/accounts'],
      ['GET', `/v1/accounts/${id}`],
      ['DELETE', `/v1/accounts/${id}`],
      ['DELETE', '/v1/users/u1'],
      ['GET', '/v1/users/u1/export'],
    ] as const;
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: 'Bearer wrong-key-xxxxxxxxxxxxxxxxxxxxxxxxx' }]) {
        const res = await h.app.inject({ method, url, headers });
        expect(res.statusCode, `${method} ${url}`).toBe(401);
        expect(res.json().error.code).toBe('GW_UNAUTHORIZED');
      }
    }
  });
});

describe('DELETE /v1/accounts/:id', () => {
  it('disconnects as the page does: tokens wiped, refresh job gone, revoke enqueued, event by "upstream"', async () => {
    // An account no other user holds: the disconnect's rule revokes it.
    const user = await userWith(dev.openId);
    const row = user.byOpenId(dev.openId);
    const res = await api(h, 'DELETE', `/v1/accounts/${row.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: row.id, status: 'DISCONNECTED', disconnectedAt: expect.any(String) });

    const after = await h.db.prisma.socialAccount.findUniqueOrThrow({ where: { id: row.id } });
    expect(after).toMatchObject({ status: 'DISCONNECTED', accessTokenCiphertext: null, refreshTokenCiphertext: null });
    expect(await h.queues.tokenRefresh.getJob(jobIds.tokenRefresh(row.id))).toBeUndefined();
    const revoke = await h.queues.accountRevoke.getJob(jobIds.accountRevoke(row.id, after.tokenVersion));
    expect(revoke?.data).toMatchObject({ accountId: row.id, accessTokenCiphertext: row.accessTokenCiphertext });
    const events = await h.db.prisma.accountEvent.findMany({ where: { accountId: row.id, type: 'DISCONNECTED' } });
    expect(events.map((e) => e.data)).toEqual([{ actor: 'upstream', reason: null, apiKey: 'key-2' }]);

    // Again: idempotent, the same account, nothing new recorded.
    const again = await api(h, 'DELETE', `/v1/accounts/${row.id}`);
    expect(again.statusCode).toBe(200);
    expect(again.json().status).toBe('DISCONNECTED');
    expect(await h.db.prisma.accountEvent.count({ where: { accountId: row.id, type: 'DISCONNECTED' } })).toBe(1);
  });
});

describe('DELETE /v1/users/:userId (erasure) and GET /v1/users/:userId/export', () => {
  it('exports accounts with their events as an attachment, without any token or ciphertext', async () => {
    const user = await userWith(ava.openId, ben.openId);
    await api(h, 'DELETE', `/v1/accounts/${user.byOpenId(ben.openId).id}`);
    const res = await api(h, 'GET', `/v1/users/${encodeURIComponent(user.userId)}/export`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="[^"]+\.json"$/);
    expect(res.headers['content-type']).toContain('application/json');
    const body = res.json();
    expect(body.userId).toBe(user.userId);
    expect(body.accounts.map((a: { openId: string }) => a.openId)).toEqual([ava.openId, ben.openId]);
    expect(body.accounts[0].events.map((e: { type: string }) => e.type)).toEqual(['CONNECTED']);
    expect(body.accounts[1].events.map((e: { type: string }) => e.type)).toEqual(['CONNECTED', 'DISCONNECTED']);
    expect(body.accounts[1].status).toBe('DISCONNECTED');
    for (const row of user.rows) {
      for (const secret of [row.accessTokenCiphertext, row.refreshTokenCiphertext]) {
        if (secret) expect(res.body).not.toContain(secret);
      }
    }
    expect(res.body).not.toMatch(/(act|rft)\.[A-Za-z0-9]/);
    expect(res.body).not.toMatch(/ciphertext/i);
  });

  it('erases everything of the user in Postgres and Redis, revokes where allowed, and leaves other users alone', async () => {
    const tiktok = createTikTokClient(tiktokClientOptions(h.config.tiktok));
    const revoker = createAccounts({
      prisma: h.db.prisma,
      keyring: h.keyring,
      redis: h.redis,
      queues: h.queues,
      queuePrefix: h.prefix,
      tiktok,
    });
    const connection = createRedisConnection(h.config.redisUrl, 'worker', 'gateway-test-revoke');
    const revoked: string[] = [];
    const worker = new Worker(QueueNames.accountRevoke, (job) => revoker.revoke(job.data), {
      connection,
      prefix: h.prefix,
    });
    try {
      // The user to erase: ava (also held by another user, so not revoked), ben (revoked), cleo (needs re-auth:
      // no token, nothing to revoke); an expired session and a live one with results.
      const other = await userWith(ava.openId);
      const user = await userWith(ava.openId, ben.openId, cleo.openId);
      const second = await h.openSession(user.userId);
      await connectAndShow(h, second.browser, ben.openId);
      await h.db.prisma.socialAccount.update({
        where: { id: user.byOpenId(cleo.openId).id },
        data: { status: 'REAUTH_REQUIRED', accessTokenCiphertext: null, refreshTokenCiphertext: null },
      });
      const benToken = user.byOpenId(ben.openId);
      // Revokes other tests enqueued (no worker ran then) are not this test's business.
      await h.queues.accountRevoke.drain(true);
      await h.sandbox.control.resetCalls();

      const revokedBen = new Promise<void>((resolve) => {
        worker.on('completed', (job) => {
          if (job.data.userId === user.userId) revoked.push(job.data.openId);
          if (job.data.openId === ben.openId) resolve();
        });
      });
      const res = await api(h, 'DELETE', `/v1/users/${encodeURIComponent(user.userId)}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ userId: user.userId, erasedAccounts: 3 });
      await revokedBen;
      // One revoke job, for ben only; it reached TikTok although the row is gone.
      expect(revoked).toEqual([ben.openId]);
      const calls = await h.sandbox.control.calls({ endpoint: 'revoke', openId: ben.openId });
      expect(calls.map((c) => c.status)).toContain(200);
      expect(await h.sandbox.control.calls({ endpoint: 'revoke', openId: ava.openId })).toEqual([]);
      await worker.close();

      // Postgres: no row of any table mentions the user or their account ids.
      const ids = [user.userId, ...user.rows.map((r) => r.id)];
      const tables = await h.db.prisma.$queryRaw<{ table_name: string }[]>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`;
      expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['social_accounts', 'account_events']));
      for (const { table_name } of tables) {
        for (const id of ids) {
          const [found] = await h.db.prisma.$queryRawUnsafe<{ n: bigint }[]>(
            `SELECT count(*) AS n FROM "${table_name}" t WHERE t::text LIKE '%' || $1 || '%'`,
            id,
          );
          expect(Number(found?.n), `${table_name} still holds ${id}`).toBe(0);
        }
      }
      // Redis: no key and no value under the gateway's prefix mentions the user (sessions, results, jobs, indexes).
      for (const key of await scanKeys(h.redis, `${h.prefix}:*`)) {
        expect(key).not.toContain(user.userId);
        const value = await dumpKey(h.redis, key);
        expect(value, key).not.toContain(user.userId);
        expect(value, key).not.toContain(benToken.accessTokenCiphertext as string);
      }
      expect(await h.redis.exists(`${h.prefix}:connect-session:${user.id}`)).toBe(0);
      expect(await h.redis.exists(`${h.prefix}:connect-session:${second.id}`)).toBe(0);
      // The sessions are gone: their links, pages and results answer as unknown.
      expect((await api(h, 'GET', `/v1/connect-sessions/${second.id}`)).statusCode).toBe(404);
      expect((await second.browser.get('/connect')).statusCode).toBe(410);
      expect((await api(h, 'GET', `/v1/users/${encodeURIComponent(user.userId)}/export`)).json().accounts).toEqual([]);

      // The other user keeps everything: their account, its tokens, its session's results.
      const kept = await h.db.prisma.socialAccount.findUniqueOrThrow({ where: { id: other.byOpenId(ava.openId).id } });
      expect(kept).toMatchObject({
        status: 'ACTIVE',
        accessTokenCiphertext: other.byOpenId(ava.openId).accessTokenCiphertext,
      });
      expect(await h.db.prisma.accountEvent.count({ where: { accountId: kept.id } })).toBeGreaterThan(0);
      expect((await api(h, 'GET', `/v1/connect-sessions/${other.id}`)).json().results).toHaveLength(1);

      // Erasing again (or an unknown user) erases nothing.
      expect((await api(h, 'DELETE', `/v1/users/${encodeURIComponent(user.userId)}`)).json()).toEqual({
        userId: user.userId,
        erasedAccounts: 0,
      });
    } finally {
      await worker.close();
      await connection.quit();
    }
  });

  it('refuses a malformed user id with 400 GW_VALIDATION and erases nothing', async () => {
    for (const method of ['DELETE', 'GET'] as const) {
      const url = `/v1/users/${encodeURIComponent('bad\u0001id')}${method === 'GET' ? '/export' : ''}`;
      const res = await api(h, method, url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code).toBe('GW_VALIDATION');
    }
  });
});
