import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountEventType, AccountStatus, Platform, Prisma } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

let counter = 0;
/** Unique ids per test so the tests in this file can share one database. */
const ids = () => {
  counter += 1;
  return { userId: `user-${counter}-${Date.now()}`, openId: `open-${counter}-${Date.now()}` };
};

const account = (userId: string, openId: string, displayName = 'Some Creator') => ({
  userId,
  platform: Platform.TIKTOK,
  openId,
  displayName,
  scopes: ['user.info.basic', 'video.list'],
  accessTokenCiphertext: 'v1:ciphertext-a',
  refreshTokenCiphertext: 'v1:ciphertext-r',
});

describe('SocialAccount uniqueness on (userId, platform, openId)', () => {
  it('keeps two rows when one user connects two different TikTok accounts', async () => {
    const { userId, openId } = ids();
    await db.prisma.socialAccount.create({ data: account(userId, `${openId}-a`, 'Account A') });
    await db.prisma.socialAccount.create({ data: account(userId, `${openId}-b`, 'Account B') });
    const rows = await db.prisma.socialAccount.findMany({ where: { userId }, orderBy: { displayName: 'asc' } });
    expect(rows.map((r) => r.displayName)).toEqual(['Account A', 'Account B']);
  });

  it('keeps two rows when two users connect the same TikTok account', async () => {
    const { userId, openId } = ids();
    await db.prisma.socialAccount.create({ data: account(`${userId}-1`, openId) });
    await db.prisma.socialAccount.create({ data: account(`${userId}-2`, openId) });
    expect(await db.prisma.socialAccount.count({ where: { openId } })).toBe(2);
  });

  it('rejects a second row for the same triple with P2002', async () => {
    const { userId, openId } = ids();
    await db.prisma.socialAccount.create({ data: account(userId, openId) });
    const error = await db.prisma.socialAccount.create({ data: account(userId, openId) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect((error as Prisma.PrismaClientKnownRequestError).code).toBe('P2002');
  });

  it('updates the same row when the same account connects again (upsert on the triple)', async () => {
    const { userId, openId } = ids();
    const key = { userId_platform_openId: { userId, platform: Platform.TIKTOK, openId } };
    const first = await db.prisma.socialAccount.upsert({
      where: key,
      create: account(userId, openId, 'Old'),
      update: {},
    });
    const again = await db.prisma.socialAccount.upsert({
      where: key,
      create: account(userId, openId, 'New'),
      update: { displayName: 'New', tokenVersion: { increment: 1 } },
    });
    expect(again.id).toBe(first.id);
    expect(again.displayName).toBe('New');
    expect(again.tokenVersion).toBe(1);
    expect(await db.prisma.socialAccount.count({ where: { userId } })).toBe(1);
  });

  it('fills defaults: ACTIVE, token version 0, a time-ordered UUIDv7 id, timestamps', async () => {
    const { userId, openId } = ids();
    const row = await db.prisma.socialAccount.create({ data: account(userId, openId) });
    expect(row.status).toBe(AccountStatus.ACTIVE);
    expect(row.tokenVersion).toBe(0);
    expect(row.refreshFailureCount).toBe(0);
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row.connectedAt).toBeInstanceOf(Date);
    expect(row.updatedAt).toBeInstanceOf(Date);
  });

  it('lets a compare-and-set on tokenVersion reject a refresh that lost a race', async () => {
    const { userId, openId } = ids();
    const row = await db.prisma.socialAccount.create({ data: account(userId, openId) });
    const write = (token: string) =>
      db.prisma.socialAccount.updateMany({
        where: { id: row.id, tokenVersion: row.tokenVersion },
        data: { accessTokenCiphertext: token, tokenVersion: { increment: 1 } },
      });
    expect((await write('winner')).count).toBe(1);
    expect((await write('loser')).count).toBe(0);
    const after = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: row.id } });
    expect(after.accessTokenCiphertext).toBe('winner');
  });
});

describe('AccountEvent', () => {
  it('deletes an account’s events with the account', async () => {
    const { userId, openId } = ids();
    const row = await db.prisma.socialAccount.create({
      data: {
        ...account(userId, openId),
        events: { create: [{ type: AccountEventType.CONNECTED }, { type: AccountEventType.REFRESHED }] },
      },
    });
    expect(await db.prisma.accountEvent.count({ where: { accountId: row.id } })).toBe(2);
    await db.prisma.socialAccount.delete({ where: { id: row.id } });
    expect(await db.prisma.accountEvent.count({ where: { accountId: row.id } })).toBe(0);
  });

  it('pages newest first with a stable (createdAt, id) keyset even when timestamps tie', async () => {
    const { userId, openId } = ids();
    const row = await db.prisma.socialAccount.create({ data: account(userId, openId) });
    const at = new Date('2026-01-01T00:00:00.000Z');
    const types = [AccountEventType.CONNECTED, AccountEventType.REFRESHED, AccountEventType.REFRESH_FAILED];
    for (const type of types) {
      await db.prisma.accountEvent.create({ data: { accountId: row.id, type, createdAt: at, data: { n: type } } });
    }
    const page1 = await db.prisma.accountEvent.findMany({
      where: { accountId: row.id },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: 2,
    });
    const last = page1.at(-1)!;
    const page2 = await db.prisma.accountEvent.findMany({
      where: { accountId: row.id },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      cursor: { id: last.id },
      skip: 1,
      take: 2,
    });
    expect([...page1, ...page2].map((e) => e.type)).toEqual([...types].reverse());
    expect(typeof last.id).toBe('bigint');
  });

  it('refuses an event for an account that does not exist', async () => {
    const error = await db.prisma.accountEvent
      .create({ data: { accountId: '00000000-0000-7000-8000-000000000000', type: AccountEventType.REVOKED } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect((error as Prisma.PrismaClientKnownRequestError).code).toBe('P2003');
  });
});
