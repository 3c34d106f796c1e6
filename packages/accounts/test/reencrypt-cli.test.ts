// `pnpm tokens:reencrypt` as an operator runs it: the root script, a child process, production settings.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { decryptToken, encryptToken, inspectCiphertext, parseKeyring } from '@ttc/crypto';
import { createTestDatabase, type TestDatabase } from '@ttc/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyTokenAad, tokenAad } from '../src/index.js';
import { makeTestConnection } from '../src/testing.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const oldEntry = `old:${randomBytes(32).toString('base64')}`;
const newEntry = `new:${randomBytes(32).toString('base64')}`;
const oldKeyring = parseKeyring(oldEntry);
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

function run(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      'pnpm',
      ['--silent', 'tokens:reencrypt', ...args],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...env },
        timeout: 30_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, out: stdout, err: stderr });
      },
    );
  });
}

async function store(keyring = oldKeyring) {
  const c = makeTestConnection(keyring);
  const row = await db.prisma.socialAccount.create({
    data: {
      userId: c.payload.userId,
      openId: c.payload.openId,
      displayName: 'CLI test',
      scopes: c.payload.scopes,
      accessTokenCiphertext: c.payload.accessTokenCiphertext,
      refreshTokenCiphertext: c.payload.refreshTokenCiphertext,
    },
  });
  return { ...c, id: row.id };
}

describe('pnpm tokens:reencrypt', () => {
  it('refuses to start in production without TOKEN_ENCRYPTION_KEYS, naming it', async () => {
    const result = await run([], { DATABASE_URL: db.url });
    expect(result.code).toBe(1);
    expect(result.err).toContain('TOKEN_ENCRYPTION_KEYS: required in production');
  });

  it('dry-runs, then re-encrypts batch by batch, exiting 1 while an account cannot be decrypted', async () => {
    const good = [await store(), await store(), await store()];
    const broken = await store(parseKeyring(`gone:${randomBytes(32).toString('base64')}`));
    const env = { DATABASE_URL: db.url, TOKEN_ENCRYPTION_KEYS: `${newEntry},${oldEntry}` };
    const snapshot = async () =>
      (await db.prisma.socialAccount.findMany({ orderBy: { id: 'asc' } })).map((r) => r.accessTokenCiphertext);
    const before = await snapshot();

    const dry = await run(['--dry-run'], env);
    expect(dry.code).toBe(1);
    expect(dry.out).toMatch(
      /batch 1: 4 \/ 4 rows scanned, 3 to re-encrypt, 0 changed meanwhile, 1 failed, [\d.]+ s, [\d,]+ rows\/s/,
    );
    expect(dry.out).toContain('Dry run done: 4 rows with tokens scanned, 3 would be re-encrypted');
    expect(dry.err).toContain(`account ${broken.id}: CRYPTO_UNKNOWN_KEY`);
    expect(await snapshot()).toEqual(before);

    await db.prisma.socialAccount.delete({ where: { id: broken.id } });
    const real = await run(['--batch-size', '2'], env);
    expect(real.code).toBe(0);
    expect(real.out.match(/^batch \d+: /gm)).toHaveLength(2);
    expect(real.out).toContain('Done: 3 rows with tokens scanned, 3 re-encrypted, 0 changed meanwhile');
    expect(real.out).toContain('Every stored token is under key "new"');
    const newOnly = parseKeyring(newEntry);
    for (const account of good) {
      const row = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: account.id } });
      expect(inspectCiphertext(row.refreshTokenCiphertext ?? '').keyId).toBe('new');
      expect(decryptToken(newOnly, row.accessTokenCiphertext ?? '', tokenAad(account.payload))).toBe(
        account.accessToken,
      );
    }
    // Nothing secret on the terminal.
    for (const output of [dry.out, dry.err, real.out, real.err]) {
      expect(output).not.toContain(newEntry.split(':')[1]);
      expect(output).not.toContain(good[0]?.payload.accessTokenCiphertext);
      expect(output).not.toContain(good[0]?.accessToken);
    }
  });

  it('moves tokens stored under the legacy associated data to tiktok/v2', async () => {
    const keyring = parseKeyring(newEntry);
    const ids = { userId: `org:${randomBytes(4).toString('hex')}`, openId: 'legacy-open-id' };
    const row = await db.prisma.socialAccount.create({
      data: {
        ...ids,
        displayName: 'legacy AAD',
        scopes: ['user.info.basic'],
        accessTokenCiphertext: encryptToken(keyring, 'act.legacy', legacyTokenAad(ids)),
        refreshTokenCiphertext: encryptToken(keyring, 'rft.legacy', legacyTokenAad(ids)),
      },
    });
    const env = { DATABASE_URL: db.url, TOKEN_ENCRYPTION_KEYS: newEntry };
    const result = await run([], env);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /Done: \d+ rows with tokens scanned, 1 re-encrypted, 0 changed meanwhile .*, 0 failed\./,
    );
    const after = await db.prisma.socialAccount.findUniqueOrThrow({ where: { id: row.id } });
    expect(decryptToken(keyring, after.accessTokenCiphertext ?? '', tokenAad(ids))).toBe('act.legacy');
    expect(decryptToken(keyring, after.refreshTokenCiphertext ?? '', tokenAad(ids))).toBe('rft.legacy');
    expect((await run([], env)).out).toMatch(/, 0 re-encrypted, /);
  });
});
