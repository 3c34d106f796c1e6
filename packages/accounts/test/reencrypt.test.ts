import { randomBytes } from 'node:crypto';
import { decryptToken, encryptToken, inspectCiphertext, type Keyring, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AccountsLogger,
  type ReencryptStoredTokensProgress,
  reencryptStoredTokens,
  tokenAad,
} from '../src/index.js';
import { makeTestConnection } from '../src/testing.js';

const entry = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const oldEntry = entry('old');
const newEntry = entry('new');
/** What the services ran with before the rotation. */
const oldKeyring = parseKeyring(oldEntry);
/** Step 1 of the rotation: the new key prepended. */
const rotating = parseKeyring(`${newEntry},${oldEntry}`);
/** Step 5: the old key gone. */
const newOnly = parseKeyring(newEntry);

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.prisma.socialAccount.deleteMany();
});

interface Stored {
  id: string;
  userId: string;
  openId: string;
  accessToken: string;
  refreshToken: string;
}

/** A stored account whose tokens were encrypted with `keyring` (as the gateway did at the time). */
async function storeAccount(keyring: Keyring): Promise<Stored> {
  const { payload, accessToken, refreshToken } = makeTestConnection(keyring);
  const row = await db.prisma.socialAccount.create({
    data: {
      userId: payload.userId,
      openId: payload.openId,
      displayName: payload.displayName,
      scopes: payload.scopes,
      accessTokenCiphertext: payload.accessTokenCiphertext,
      refreshTokenCiphertext: payload.refreshTokenCiphertext,
      accessTokenExpiresAt: new Date(payload.accessTokenExpiresAt),
    },
  });
  return { id: row.id, userId: payload.userId, openId: payload.openId, accessToken, refreshToken };
}

async function rowOf(id: string) {
  return db.prisma.socialAccount.findUniqueOrThrow({ where: { id } });
}

function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const logger: AccountsLogger = {
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
  return { logger, lines };
}

describe('reencryptStoredTokens', () => {
  it('moves rows under the old key to the new one, readable with the new key alone', async () => {
    const accounts = [await storeAccount(oldKeyring), await storeAccount(oldKeyring), await storeAccount(oldKeyring)];
    const before = await Promise.all(accounts.map((a) => rowOf(a.id)));

    const report = await reencryptStoredTokens({ prisma: db.prisma, keyring: rotating });

    expect(report).toEqual({ scanned: 3, reencrypted: 3, skippedChanged: 0, failed: 0 });
    for (const [i, account] of accounts.entries()) {
      const row = await rowOf(account.id);
      const aad = tokenAad(account);
      expect(inspectCiphertext(row.accessTokenCiphertext ?? '').keyId).toBe('new');
      expect(inspectCiphertext(row.refreshTokenCiphertext ?? '').keyId).toBe('new');
      expect(decryptToken(newOnly, row.accessTokenCiphertext ?? '', aad)).toBe(account.accessToken);
      expect(decryptToken(newOnly, row.refreshTokenCiphertext ?? '', aad)).toBe(account.refreshToken);
      // Not a token change: the refresh fence and the row's timestamps stay as they were.
      expect(row.tokenVersion).toBe(before[i]?.tokenVersion);
      expect(row.updatedAt).toEqual(before[i]?.updatedAt);
    }
    // Idempotent: a second run finds nothing to do.
    expect(await reencryptStoredTokens({ prisma: db.prisma, keyring: rotating })).toEqual({
      scanned: 3,
      reencrypted: 0,
      skippedChanged: 0,
      failed: 0,
    });
  });

  it('leaves rows already under the primary key untouched and skips rows without tokens', async () => {
    const current = await storeAccount(rotating);
    const old = await storeAccount(oldKeyring);
    const disconnected = await storeAccount(oldKeyring);
    await db.prisma.socialAccount.update({
      where: { id: disconnected.id },
      data: { status: 'DISCONNECTED', accessTokenCiphertext: null, refreshTokenCiphertext: null },
    });
    // Half-rotated: a row whose access token was re-encrypted but whose refresh token was not.
    const half = await storeAccount(oldKeyring);
    const halfRow = await rowOf(half.id);
    const halfAccess = encryptToken(rotating, half.accessToken, tokenAad(half));
    await db.prisma.socialAccount.update({ where: { id: half.id }, data: { accessTokenCiphertext: halfAccess } });
    const currentBefore = await rowOf(current.id);

    const report = await reencryptStoredTokens({ prisma: db.prisma, keyring: rotating });

    expect(report).toEqual({ scanned: 3, reencrypted: 2, skippedChanged: 0, failed: 0 });
    const currentAfter = await rowOf(current.id);
    expect(currentAfter.accessTokenCiphertext).toBe(currentBefore.accessTokenCiphertext);
    expect(currentAfter.refreshTokenCiphertext).toBe(currentBefore.refreshTokenCiphertext);
    expect(inspectCiphertext((await rowOf(old.id)).accessTokenCiphertext ?? '').keyId).toBe('new');
    const halfAfter = await rowOf(half.id);
    expect(halfAfter.accessTokenCiphertext).toBe(halfAccess);
    expect(halfAfter.refreshTokenCiphertext).not.toBe(halfRow.refreshTokenCiphertext);
    expect(decryptToken(newOnly, halfAfter.refreshTokenCiphertext ?? '', tokenAad(half))).toBe(half.refreshToken);
    expect((await rowOf(disconnected.id)).accessTokenCiphertext).toBeNull();
  });

  it('does not overwrite tokens that a refresh or a disconnect changed between its read and its write', async () => {
    const refreshed = await storeAccount(oldKeyring);
    const disconnected = await storeAccount(oldKeyring);
    const untouched = await storeAccount(oldKeyring);
    const rotated = {
      access: encryptToken(rotating, `act.${randomBytes(8).toString('hex')}`, tokenAad(refreshed)),
      refresh: encryptToken(rotating, `rft.${randomBytes(8).toString('hex')}`, tokenAad(refreshed)),
    };

    // A refresh and a disconnect hold their rows, uncommitted, while the run reads the old ciphertexts; its
    // compare-and-set then waits on their row locks and sees the committed rows.
    let run: Promise<Awaited<ReturnType<typeof reencryptStoredTokens>>> | undefined;
    await db.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`UPDATE social_accounts SET access_token_ciphertext = ${rotated.access},
          refresh_token_ciphertext = ${rotated.refresh}, token_version = token_version + 1
          WHERE id = ${refreshed.id}::uuid`;
        await tx.$executeRaw`UPDATE social_accounts SET access_token_ciphertext = NULL,
          refresh_token_ciphertext = NULL, status = 'DISCONNECTED'::"account_status"
          WHERE id = ${disconnected.id}::uuid`;
        run = reencryptStoredTokens({ prisma: db.prisma, keyring: rotating });
        await expect
          .poll(
            async () => {
              const [waiting] = await db.prisma.$queryRaw<{ n: number }[]>`
                SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE social_accounts AS a%'`;
              return waiting?.n;
            },
            { timeout: 10_000, interval: 20 },
          )
          .toBe(1);
      },
      { timeout: 15_000 },
    );
    const report = await run;

    expect(report).toEqual({ scanned: 3, reencrypted: 1, skippedChanged: 2, failed: 0 });
    const refreshedRow = await rowOf(refreshed.id);
    expect(refreshedRow.accessTokenCiphertext).toBe(rotated.access);
    expect(refreshedRow.refreshTokenCiphertext).toBe(rotated.refresh);
    expect((await rowOf(disconnected.id)).accessTokenCiphertext).toBeNull();
    const untouchedRow = await rowOf(untouched.id);
    expect(decryptToken(newOnly, untouchedRow.accessTokenCiphertext ?? '', tokenAad(untouched))).toBe(
      untouched.accessToken,
    );
  });

  it('counts a row encrypted for another account as failed, logs its id only, and carries on', async () => {
    const victim = await storeAccount(oldKeyring);
    const before = await storeAccount(oldKeyring);
    const after = await storeAccount(oldKeyring);
    // A ciphertext copied from another account's row: its AAD names the other identity.
    const foreign = await rowOf(before.id);
    await db.prisma.socialAccount.update({
      where: { id: victim.id },
      data: { refreshTokenCiphertext: foreign.refreshTokenCiphertext },
    });
    // And one under a key that has left the keyring altogether.
    const lostKey = parseKeyring(entry('lost'));
    const orphan = await storeAccount(lostKey);
    const victimBefore = await rowOf(victim.id);
    const { logger, lines } = recordingLogger();

    const report = await reencryptStoredTokens({ prisma: db.prisma, keyring: rotating, logger });

    expect(report).toEqual({ scanned: 4, reencrypted: 2, skippedChanged: 0, failed: 2 });
    // Failed rows stay exactly as they were, even the half that could be read.
    const victimAfter = await rowOf(victim.id);
    expect(victimAfter.accessTokenCiphertext).toBe(victimBefore.accessTokenCiphertext);
    expect(victimAfter.refreshTokenCiphertext).toBe(victimBefore.refreshTokenCiphertext);
    for (const ok of [before, after]) {
      const row = await rowOf(ok.id);
      expect(decryptToken(newOnly, row.refreshTokenCiphertext ?? '', tokenAad(ok))).toBe(ok.refreshToken);
    }
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings.map((w) => (w.obj as { accountId: string }).accountId).sort()).toEqual(
      [victim.id, orphan.id].sort(),
    );
    expect(warnings.map((w) => (w.obj as { code: string }).code).sort()).toEqual(
      ['CRYPTO_DECRYPT_FAILED', 'CRYPTO_UNKNOWN_KEY'].sort(),
    );
    const logged = JSON.stringify(lines);
    for (const secret of [
      victimBefore.accessTokenCiphertext,
      victimBefore.refreshTokenCiphertext,
      victim.accessToken,
    ]) {
      expect(logged).not.toContain(secret);
    }
    expect(logged).not.toContain((await rowOf(orphan.id)).accessTokenCiphertext);
  });

  it('with dryRun counts what would change and writes nothing', async () => {
    await storeAccount(oldKeyring);
    await storeAccount(oldKeyring);
    await storeAccount(rotating);
    const snapshot = async () =>
      (await db.prisma.socialAccount.findMany({ orderBy: { id: 'asc' } })).map((r) => [
        r.accessTokenCiphertext,
        r.refreshTokenCiphertext,
      ]);
    const before = await snapshot();

    const report = await reencryptStoredTokens({ prisma: db.prisma, keyring: rotating }, { dryRun: true });

    expect(report).toEqual({ scanned: 3, reencrypted: 2, skippedChanged: 0, failed: 0 });
    expect(await snapshot()).toEqual(before);
  });

  it('reports progress once per batch, with the total known up front', async () => {
    for (let i = 0; i < 5; i++) await storeAccount(i % 2 === 0 ? oldKeyring : rotating);
    const seen: ReencryptStoredTokensProgress[] = [];

    const report = await reencryptStoredTokens(
      { prisma: db.prisma, keyring: rotating },
      { batchSize: 2, onProgress: (p) => seen.push({ ...p }) },
    );

    expect(report).toEqual({ scanned: 5, reencrypted: 3, skippedChanged: 0, failed: 0 });
    expect(seen.map((p) => [p.batch, p.scanned, p.total])).toEqual([
      [1, 2, 5],
      [2, 4, 5],
      [3, 5, 5],
    ]);
    expect(seen.at(-1)).toMatchObject(report);
    expect(seen.every((p) => p.elapsedMs >= 0)).toBe(true);

    // A table that is an exact multiple of the batch size: no extra, empty batch is reported.
    await db.prisma.socialAccount.deleteMany();
    for (let i = 0; i < 4; i++) await storeAccount(oldKeyring);
    const batches: number[] = [];
    await reencryptStoredTokens(
      { prisma: db.prisma, keyring: rotating },
      { batchSize: 2, onProgress: (p) => batches.push(p.batch) },
    );
    expect(batches).toEqual([1, 2]);
  });
});
