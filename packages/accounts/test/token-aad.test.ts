// The token AAD: unambiguous from tiktok/v2 on, tokens stored under the legacy `tiktok:<userId>:<openId>` still read,
// and moved to the new AAD by reencryptStoredTokens (what `pnpm tokens:reencrypt` runs).
import { randomUUID } from 'node:crypto';
import {
  CryptoErrorCode,
  decryptToken,
  encryptToken,
  generateKeyringEntry,
  isCryptoError,
  parseKeyring,
} from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection, type Queues, type RedisClient } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { type SandboxHandle, startSandbox } from '@ttc/tiktok-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decryptAccountToken,
  legacyTokenAad,
  readsLegacyAad,
  reencryptStoredTokens,
  type TokenIdentity,
  tokenAad,
} from '../src/index.js';
import { connectThroughTikTok, createTestAccounts, type TestAccounts } from '../src/testing.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-aad-${randomUUID()}`;
const keyring = parseKeyring(generateKeyringEntry('aad1'));
let db: TestDatabase;
let sandbox: SandboxHandle;
let redis: RedisClient;
let producer: RedisClient;
let queues: Queues;
let accounts: TestAccounts;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
  redis = createRedisConnection(redisUrl, 'client', 'aad-test');
  producer = createRedisConnection(redisUrl, 'producer', 'aad-test');
  queues = createQueues({ connection: producer, prefix });
  accounts = createTestAccounts({
    prisma: db.prisma,
    keyring,
    redis,
    queues,
    queuePrefix: prefix,
    tiktok: createTikTokClient({ ...sandbox.clientOptions, timeoutMs: 3_000 }),
  });
});

afterAll(async () => {
  for (const queue of queues?.all() ?? []) await queue.obliterate({ force: true });
  await queues?.close();
  if (redis) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  redis?.disconnect();
  producer?.disconnect();
  await sandbox?.close();
  await db?.drop();
});

function expectDecryptFailed(run: () => unknown): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(isCryptoError(caught, CryptoErrorCode.DECRYPT_FAILED)).toBe(true);
}

/** An account as a release before tiktok/v2 stored it: the same tokens, encrypted under the legacy AAD. */
async function connectUnderLegacyAad(userId: string, openId: string) {
  const connected = await connectThroughTikTok(accounts, sandbox.control, { userId, openId });
  const ids = { userId, openId };
  await db.prisma.socialAccount.update({
    where: { id: connected.accountId },
    data: {
      accessTokenCiphertext: encryptToken(keyring, connected.tokens.accessToken, legacyTokenAad(ids)),
      refreshTokenCiphertext: encryptToken(keyring, connected.tokens.refreshToken, legacyTokenAad(ids)),
    },
  });
  return connected;
}

async function ciphertextsOf(accountId: string) {
  const row = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: accountId } });
  return { access: row.accessTokenCiphertext ?? '', refresh: row.refreshTokenCiphertext ?? '' };
}

describe('tokenAad', () => {
  it('gives two identities that collided under the legacy scheme different AADs', () => {
    const a = { userId: 'tenant:7', openId: 'open-x' };
    const b = { userId: 'tenant', openId: '7:open-x' };
    expect(legacyTokenAad(a)).toBe(legacyTokenAad(b));
    expect(tokenAad(a)).not.toBe(tokenAad(b));
    expect(tokenAad(a)).toBe('tiktok/v2:["tenant:7","open-x"]');
    // Quotes and backslashes are escaped: no choice of ids can forge another pair's AAD.
    expect(tokenAad({ userId: 'u","v', openId: 'w' })).not.toBe(tokenAad({ userId: 'u', openId: 'v","w' }));
  });

  it('never lets the two colliding identities open each other’s tokens', () => {
    const a: TokenIdentity = { userId: 'tenant:7', openId: 'open-x' };
    const b: TokenIdentity = { userId: 'tenant', openId: '7:open-x' };
    const forA = encryptToken(keyring, 'act.token-of-a', tokenAad(a));
    const forB = encryptToken(keyring, 'act.token-of-b', tokenAad(b));
    expect(decryptAccountToken(keyring, forA, a)).toBe('act.token-of-a');
    expect(decryptAccountToken(keyring, forB, b)).toBe('act.token-of-b');
    expectDecryptFailed(() => decryptAccountToken(keyring, forA, b));
    expectDecryptFailed(() => decryptAccountToken(keyring, forB, a));
    // Nor a legacy ciphertext of `a` in `b`'s row: `b`'s open_id has a ":", so its legacy AAD is never tried.
    expect(readsLegacyAad(b)).toBe(false);
    const legacyForA = encryptToken(keyring, 'act.token-of-a', legacyTokenAad(a));
    expect(decryptAccountToken(keyring, legacyForA, a)).toBe('act.token-of-a');
    expectDecryptFailed(() => decryptAccountToken(keyring, legacyForA, b));
  });
});

describe('tokens stored under the legacy AAD', () => {
  it('still decrypt: the access token is handed out and the refresh token refreshes', async () => {
    const userId = `org:${randomUUID()}`;
    const connected = await connectUnderLegacyAad(userId, 'sbx-open-ava');
    const before = await ciphertextsOf(connected.accountId);
    expectDecryptFailed(() => decryptToken(keyring, before.access, tokenAad({ userId, openId: 'sbx-open-ava' })));

    const fresh = await accounts.getFreshAccessToken(connected.accountId);
    expect(fresh.accessToken).toBe(connected.tokens.accessToken);
    expect(fresh.refreshed).toBe(false);

    const result = await accounts.refresh(connected.accountId, { reason: 'manual', force: true, schedule: false });
    expect(result.outcome).toBe('refreshed');
    // The rotated tokens are written under the new AAD.
    const after = await ciphertextsOf(connected.accountId);
    const refreshed = decryptToken(keyring, after.access, tokenAad({ userId, openId: 'sbx-open-ava' }));
    expect(refreshed).not.toBe(connected.tokens.accessToken);
    expect((await accounts.getFreshAccessToken(connected.accountId)).accessToken).toBe(refreshed);
  });

  it('are re-encrypted under the new AAD by reencryptStoredTokens, once', async () => {
    const legacy = [
      await connectUnderLegacyAad(`org:${randomUUID()}`, 'sbx-open-ben'),
      await connectUnderLegacyAad(`plain-${randomUUID()}`, 'sbx-open-chloe'),
    ];
    const current = await connectThroughTikTok(accounts, sandbox.control, { openId: 'sbx-open-dev' });
    const currentBefore = await ciphertextsOf(current.accountId);

    const dry = await reencryptStoredTokens({ prisma: db.prisma, keyring }, { dryRun: true });
    expect(dry.reencrypted).toBe(2);
    const report = await reencryptStoredTokens({ prisma: db.prisma, keyring });
    expect(report.failed).toBe(0);
    expect(report.reencrypted).toBe(dry.reencrypted);

    for (const { accountId, userId, tokens } of legacy) {
      const row = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: accountId } });
      const ids = { userId, openId: row.openId };
      expect(decryptToken(keyring, row.accessTokenCiphertext ?? '', tokenAad(ids))).toBe(tokens.accessToken);
      expect(decryptToken(keyring, row.refreshTokenCiphertext ?? '', tokenAad(ids))).toBe(tokens.refreshToken);
      expectDecryptFailed(() => decryptToken(keyring, row.accessTokenCiphertext ?? '', legacyTokenAad(ids)));
    }
    // Already under the primary key and the new AAD: left exactly as it was.
    expect(await ciphertextsOf(current.accountId)).toEqual(currentBefore);
    const again = await reencryptStoredTokens({ prisma: db.prisma, keyring });
    expect(again).toMatchObject({ reencrypted: 0, failed: 0 });
  });

  it('of another identity are refused, and not re-encrypted, when the legacy AAD would be ambiguous', async () => {
    // `victim` holds, in its row, a legacy ciphertext made for `owner`, whose legacy AAD is the same string.
    const owner = { userId: `t:${randomUUID()}`, openId: 'sbx-open-emi' };
    const [head, tail] = [owner.userId.slice(0, 1), owner.userId.slice(2)];
    const victim = await connectThroughTikTok(accounts, sandbox.control, { userId: head, openId: 'sbx-open-zoe' });
    const swapped = encryptToken(keyring, 'act.owners-token', legacyTokenAad(owner));
    await db.prisma.socialAccount.update({
      where: { id: victim.accountId },
      data: { openId: `${tail}:${owner.openId}`, accessTokenCiphertext: swapped },
    });
    expect(legacyTokenAad({ userId: head, openId: `${tail}:${owner.openId}` })).toBe(legacyTokenAad(owner));

    await expect(accounts.getFreshAccessToken(victim.accountId)).rejects.toSatisfy((error: unknown) =>
      isCryptoError(error, CryptoErrorCode.DECRYPT_FAILED),
    );
    // Not laundered into the victim's new AAD either: the re-encryption leaves it as it is, still unreadable.
    await reencryptStoredTokens({ prisma: db.prisma, keyring });
    expect((await ciphertextsOf(victim.accountId)).access).toBe(swapped);
    await expect(accounts.getFreshAccessToken(victim.accountId)).rejects.toThrow();
    await db.prisma.socialAccount.delete({ where: { id: victim.accountId } });
  });
});
