import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  CryptoErrorCode,
  decryptToken,
  encryptToken,
  generateKey,
  inspectCiphertext,
  needsReencryption,
  parseKeyring,
  reencryptToken,
} from '../src/index.js';
import { expectCryptoError, flipByte, withPart } from './helpers.js';

const keyA = generateKey();
const keyB = generateKey();
const keyring = parseKeyring(`a:${keyA}`);
const aad = 'tiktok:user-1:open-1';
const token = 'act.example-access-token-0123456789abcdefghijklmnopqrstuvwxyz!1234';

describe('encryptToken / decryptToken', () => {
  it('round-trips a token', () => {
    const ciphertext = encryptToken(keyring, token, aad);
    expect(decryptToken(keyring, ciphertext, aad)).toBe(token);
  });

  it('produces a versioned, URL-safe v1.<keyId>.<iv>.<ciphertext+tag> string', () => {
    const ciphertext = encryptToken(keyring, token, aad);
    expect(ciphertext).toMatch(/^v1\.a\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(encodeURIComponent(ciphertext)).toBe(ciphertext);
    const body = Buffer.from(ciphertext.split('.')[3] ?? '', 'base64url');
    expect(body).toHaveLength(Buffer.byteLength(token) + 16);
    expect(inspectCiphertext(ciphertext)).toEqual({ version: 'v1', keyId: 'a' });
  });

  it('uses a fresh IV every time, so equal tokens give different ciphertexts', () => {
    const seen = new Set(Array.from({ length: 50 }, () => encryptToken(keyring, token, aad)));
    const ivs = new Set([...seen].map((c) => c.split('.')[2]));
    expect(seen.size).toBe(50);
    expect(ivs.size).toBe(50);
  });

  it('round-trips an empty plaintext', () => {
    const ciphertext = encryptToken(keyring, '', aad);
    expect(decryptToken(keyring, ciphertext, aad)).toBe('');
  });

  it('round-trips unicode, including astral characters and combining marks', () => {
    const text = 'tökén 🔑 日本語 e\u0301 \u0000 end';
    expect(decryptToken(keyring, encryptToken(keyring, text, 'aad ü 🌍'), 'aad ü 🌍')).toBe(text);
  });

  it('round-trips a long plaintext', () => {
    const long = 'x'.repeat(100_000);
    expect(decryptToken(keyring, encryptToken(keyring, long, aad), aad)).toBe(long);
  });

  it('never contains the plaintext or the aad in the output, in any encoding', () => {
    const ciphertext = encryptToken(keyring, token, aad);
    for (const leak of [
      token,
      token.slice(0, 12),
      Buffer.from(token).toString('base64url').slice(0, 12),
      Buffer.from(token).toString('hex').slice(0, 12),
      aad,
    ]) {
      expect(ciphertext).not.toContain(leak);
    }
  });

  it('fails with CRYPTO_DECRYPT_FAILED when the aad is another account', () => {
    const ciphertext = encryptToken(keyring, token, 'tiktok:user-1:open-1');
    expectCryptoError(() => decryptToken(keyring, ciphertext, 'tiktok:user-1:open-2'), CryptoErrorCode.DECRYPT_FAILED);
    expectCryptoError(() => decryptToken(keyring, ciphertext, 'tiktok:user-2:open-1'), CryptoErrorCode.DECRYPT_FAILED);
  });

  it('fails with CRYPTO_DECRYPT_FAILED under the wrong key with the same id', () => {
    const ciphertext = encryptToken(keyring, token, aad);
    const impostor = parseKeyring(`a:${keyB}`);
    expectCryptoError(() => decryptToken(impostor, ciphertext, aad), CryptoErrorCode.DECRYPT_FAILED);
  });

  it('requires a non-empty aad so the account binding cannot be forgotten', () => {
    expectCryptoError(() => encryptToken(keyring, token, ''), CryptoErrorCode.INVALID_ARGUMENT);
    const ciphertext = encryptToken(keyring, token, aad);
    expectCryptoError(() => decryptToken(keyring, ciphertext, ''), CryptoErrorCode.INVALID_ARGUMENT);
  });

  it('rejects a non-string plaintext and a forged keyring object', () => {
    expectCryptoError(() => encryptToken(keyring, 42 as unknown as string, aad), CryptoErrorCode.INVALID_ARGUMENT);
    const forged = { primaryKeyId: 'a', keyIds: ['a'] } as unknown as typeof keyring;
    expectCryptoError(() => encryptToken(forged, token, aad), CryptoErrorCode.INVALID_ARGUMENT);
  });
});

describe('tampering', () => {
  const ciphertext = encryptToken(keyring, token, aad);

  it('detects a changed IV', () => {
    const tampered = withPart(ciphertext, 2, (iv) => flipByte(iv, 0));
    expectCryptoError(() => decryptToken(keyring, tampered, aad), CryptoErrorCode.DECRYPT_FAILED);
  });

  it('detects a changed ciphertext byte', () => {
    const tampered = withPart(ciphertext, 3, (body) => flipByte(body, 0));
    expectCryptoError(() => decryptToken(keyring, tampered, aad), CryptoErrorCode.DECRYPT_FAILED);
  });

  it('detects a changed authentication tag', () => {
    const tampered = withPart(ciphertext, 3, (body) => flipByte(body, -1));
    expectCryptoError(() => decryptToken(keyring, tampered, aad), CryptoErrorCode.DECRYPT_FAILED);
  });

  it('detects a truncated tag as malformed when too short, and as failed otherwise', () => {
    const empty = encryptToken(keyring, '', aad);
    const shortened = withPart(empty, 3, (body) => Buffer.from(body, 'base64url').subarray(1).toString('base64url'));
    expectCryptoError(() => decryptToken(keyring, shortened, aad), CryptoErrorCode.MALFORMED);
    const dropped = withPart(ciphertext, 3, (body) => Buffer.from(body, 'base64url').subarray(1).toString('base64url'));
    expectCryptoError(() => decryptToken(keyring, dropped, aad), CryptoErrorCode.DECRYPT_FAILED);
  });

  it('rejects a key id changed to one the keyring lacks with CRYPTO_UNKNOWN_KEY', () => {
    const tampered = withPart(ciphertext, 1, () => 'zz');
    const error = expectCryptoError(() => decryptToken(keyring, tampered, aad), CryptoErrorCode.UNKNOWN_KEY);
    expect(error.message).toContain('"zz"');
  });

  it('rejects a key id changed to another known key with CRYPTO_DECRYPT_FAILED', () => {
    // Same key bytes under two ids: only the authenticated header tells them apart.
    const twoIds = parseKeyring(`a:${keyA},b:${keyA}`);
    const tampered = withPart(ciphertext, 1, () => 'b');
    expectCryptoError(() => decryptToken(twoIds, tampered, aad), CryptoErrorCode.DECRYPT_FAILED);
  });

  it.each(['v2', 'v0', 'V1', '', 'x'])('rejects version %j with CRYPTO_MALFORMED', (version) => {
    const tampered = withPart(ciphertext, 0, () => version);
    expectCryptoError(() => decryptToken(keyring, tampered, aad), CryptoErrorCode.MALFORMED);
  });

  it.each([
    ['an empty string', ''],
    ['too few parts', 'v1.a.AAAAAAAAAAAAAAAA'],
    ['too many parts', `${'v1.a.AAAAAAAAAAAAAAAA.'}${'A'.repeat(22)}.x`],
    ['a short IV', `v1.a.AAAA.${'A'.repeat(22)}`],
    ['a non-base64url IV', `v1.a.AAAAAAAAAAAAAAA+.${'A'.repeat(22)}`],
    ['padding', `v1.a.AAAAAAAAAAAAAAAA.${'A'.repeat(22)}==`],
    ['a body shorter than the tag', 'v1.a.AAAAAAAAAAAAAAAA.AAAA'],
    ['an invalid key id', `v1.a b.AAAAAAAAAAAAAAAA.${'A'.repeat(22)}`],
    ['a non-canonical body (stray trailing bits)', `v1.a.AAAAAAAAAAAAAAAA.${'A'.repeat(21)}B`],
  ])('rejects %s with CRYPTO_MALFORMED', (_label, input) => {
    expectCryptoError(() => decryptToken(keyring, input, aad), CryptoErrorCode.MALFORMED);
  });

  it('rejects a non-string ciphertext as malformed', () => {
    expectCryptoError(() => decryptToken(keyring, null as unknown as string, aad), CryptoErrorCode.MALFORMED);
  });

  it('rejects every single-character change anywhere in the string', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    for (let i = 0; i < ciphertext.length; i++) {
      const original = ciphertext[i] ?? '';
      const replacement = alphabet[(alphabet.indexOf(original) + 1) % alphabet.length] ?? 'A';
      const tampered = ciphertext.slice(0, i) + replacement + ciphertext.slice(i + 1);
      expect(() => decryptToken(keyring, tampered, aad), `position ${i}`).toThrow(CryptoError);
    }
  });

  it('keeps plaintext, key material and aad out of every error', () => {
    const failures = [
      () =>
        decryptToken(
          keyring,
          withPart(ciphertext, 3, (b) => flipByte(b, 0)),
          aad,
        ),
      () => decryptToken(keyring, ciphertext, 'tiktok:other'),
      () =>
        decryptToken(
          keyring,
          withPart(ciphertext, 1, () => 'zz'),
          aad,
        ),
      () =>
        decryptToken(
          keyring,
          withPart(ciphertext, 0, () => 'v9'),
          aad,
        ),
    ];
    for (const fail of failures) {
      let caught: unknown;
      try {
        fail();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CryptoError);
      const text = `${String(caught)} ${(caught as Error).stack} ${JSON.stringify(caught)} ${String((caught as Error).cause ?? '')}`;
      for (const secret of [token, keyA, aad, Buffer.from(keyA, 'base64').toString('hex')]) {
        expect(text).not.toContain(secret);
      }
    }
  });
});

describe('rotation', () => {
  const oldKeyring = parseKeyring(`old:${keyA}`);
  const rotated = parseKeyring(`new:${keyB},old:${keyA}`);

  it('decrypts old ciphertexts with a rotated keyring (new key first, old second)', () => {
    const ciphertext = encryptToken(oldKeyring, token, aad);
    expect(decryptToken(rotated, ciphertext, aad)).toBe(token);
    expect(needsReencryption(rotated, ciphertext)).toBe(true);
    expect(needsReencryption(oldKeyring, ciphertext)).toBe(false);
  });

  it('encrypts under the new primary key', () => {
    const ciphertext = encryptToken(rotated, token, aad);
    expect(inspectCiphertext(ciphertext).keyId).toBe('new');
    expect(needsReencryption(rotated, ciphertext)).toBe(false);
    expectCryptoError(() => decryptToken(oldKeyring, ciphertext, aad), CryptoErrorCode.UNKNOWN_KEY);
  });

  it('reencryptToken moves a ciphertext to the new key, which then decrypts without the old key', () => {
    const ciphertext = encryptToken(oldKeyring, token, aad);
    const moved = reencryptToken(rotated, ciphertext, aad);
    expect(inspectCiphertext(moved).keyId).toBe('new');
    expect(needsReencryption(rotated, moved)).toBe(false);
    const newOnly = parseKeyring(`new:${keyB}`);
    expect(decryptToken(newOnly, moved, aad)).toBe(token);
    expectCryptoError(() => decryptToken(newOnly, ciphertext, aad), CryptoErrorCode.UNKNOWN_KEY);
  });

  it('reencryptToken keeps a ciphertext already under the primary key, after checking it', () => {
    const current = encryptToken(rotated, token, aad);
    expect(reencryptToken(rotated, current, aad)).toBe(current);
    expectCryptoError(() => reencryptToken(rotated, current, 'tiktok:other'), CryptoErrorCode.DECRYPT_FAILED);
  });

  it('reencryptToken refuses to move a ciphertext to another account', () => {
    const ciphertext = encryptToken(oldKeyring, token, aad);
    expectCryptoError(() => reencryptToken(rotated, ciphertext, 'tiktok:other'), CryptoErrorCode.DECRYPT_FAILED);
  });

  it('needsReencryption rejects malformed input', () => {
    expectCryptoError(() => needsReencryption(rotated, 'not-a-ciphertext'), CryptoErrorCode.MALFORMED);
  });

  it('fails with CRYPTO_UNKNOWN_KEY once the old key is removed too early', () => {
    const ciphertext = encryptToken(oldKeyring, token, aad);
    const error = expectCryptoError(
      () => decryptToken(parseKeyring(`new:${keyB}`), ciphertext, aad),
      CryptoErrorCode.UNKNOWN_KEY,
    );
    expect(error.message).toContain('"old"');
    expect(error.message).not.toContain(keyB);
  });
});
