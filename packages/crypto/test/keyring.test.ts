import { describe, expect, it } from 'vitest';
import {
  CryptoErrorCode,
  createKeyring,
  decryptToken,
  encryptToken,
  generateKey,
  generateKeyringEntry,
  KeyringError,
  parseKeyring,
} from '../src/index.js';
import { expectCryptoError } from './helpers.js';

const keyA = generateKey();
const keyB = generateKey();

function parseError(value: string): KeyringError {
  const error = expectCryptoError(() => parseKeyring(value), CryptoErrorCode.INVALID_KEYRING);
  expect(error).toBeInstanceOf(KeyringError);
  return error as KeyringError;
}

describe('parseKeyring', () => {
  it('makes the first entry the primary key and keeps all ids in order', () => {
    const keyring = parseKeyring(`new:${keyA}, old:${keyB}`);
    expect(keyring.primaryKeyId).toBe('new');
    expect(keyring.keyIds).toEqual(['new', 'old']);
    expect(keyring.has('old')).toBe(true);
    expect(keyring.has('other')).toBe(false);
  });

  it('accepts base64url keys and keys without padding', () => {
    const bytes = Buffer.alloc(32, 0xfb); // encodes with "+"/"/" in base64 and "-"/"_" in base64url
    const urlSafe = parseKeyring(`u:${bytes.toString('base64url')}`);
    const unpadded = parseKeyring(`s:${bytes.toString('base64').replace(/=+$/, '')}`);
    const padded = createKeyring([{ id: 'u', key: bytes }]);
    const ciphertext = encryptToken(urlSafe, 'token', 'acct');
    expect(decryptToken(padded, ciphertext, 'acct')).toBe('token');
    expect(unpadded.primaryKeyId).toBe('s');
  });

  it('accepts the output of generateKeyringEntry', () => {
    const entry = generateKeyringEntry('dev');
    expect(entry).toMatch(/^dev:[A-Za-z0-9+/]{43}=$/);
    expect(parseKeyring(entry).primaryKeyId).toBe('dev');
    expect(generateKeyringEntry()).toMatch(/^k\d{8}T\d{6}:/);
  });

  it('generates a different 32-byte key each time', () => {
    const a = generateKey();
    expect(Buffer.from(a, 'base64')).toHaveLength(32);
    expect(a).not.toBe(generateKey());
  });

  it('rejects an empty value', () => {
    expect(parseError('').message).toContain('TOKEN_ENCRYPTION_KEYS is empty');
    parseError('   ');
  });

  it('names the entry index of an empty entry (stray comma)', () => {
    const error = parseError(`a:${keyA},`);
    expect(error.entry).toBe(2);
    expect(error.message).toContain('entry 2 of 2');
    expect(error.message).not.toContain(keyA);
  });

  it('rejects an entry without a key id and never echoes it (it may be a bare key)', () => {
    const error = parseError(`a:${keyA},${keyB}`);
    expect(error.entry).toBe(2);
    expect(error.message).toContain('keyId:base64key');
    expect(error.message).not.toContain(keyB);
    expect(error.message).not.toContain(keyA);
  });

  it('rejects a swapped entry (key before id) without printing the key', () => {
    const error = parseError(`${keyA}:a`);
    expect(error.message).toContain('invalid key id');
    expect(error.message).not.toContain(keyA);
    expect(error.keyId).toBeUndefined();
  });

  it.each([
    ['too long', 'x'.repeat(33)],
    ['a dot', 'k.1'],
    ['a space', 'k 1'],
    ['empty', ''],
  ])('rejects a key id that is %s', (_label, id) => {
    const error = parseError(`ok:${keyA},${id}:${keyB}`);
    expect(error.entry).toBe(2);
    expect(error.message).not.toContain(keyB);
  });

  it('names the id of an entry whose key has the wrong length, without the key', () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    const error = parseError(`a:${keyA},b:${short}`);
    expect(error).toMatchObject({ entry: 2, keyId: 'b' });
    expect(error.message).toContain('"b"');
    expect(error.message).toContain('16 bytes');
    expect(error.message).not.toContain(short);
  });

  it('rejects a key that is not base64, without echoing it', () => {
    const bad = `${keyA.slice(0, 20)}!${keyA.slice(21)}`;
    const error = parseError(`a:${bad}`);
    expect(error).toMatchObject({ entry: 1, keyId: 'a' });
    expect(error.message).toContain('not valid base64');
    expect(error.message).not.toContain(bad);
  });

  it('rejects a missing key after the colon', () => {
    expect(parseError('a:').message).toContain('no key');
  });

  it('rejects a repeated key id', () => {
    const error = parseError(`a:${keyA},a:${keyB}`);
    expect(error).toMatchObject({ entry: 2, keyId: 'a' });
    expect(error.message).not.toContain(keyA);
    expect(error.message).not.toContain(keyB);
  });

  it('uses the given setting name in messages', () => {
    expectCryptoError(() => parseKeyring('', { name: 'OTHER_KEYS' }), CryptoErrorCode.INVALID_KEYRING);
    expect(() => parseKeyring('', { name: 'OTHER_KEYS' })).toThrow(/OTHER_KEYS/);
  });
});

describe('Keyring', () => {
  it('never exposes key material through inspection or JSON', async () => {
    const keyring = parseKeyring(`a:${keyA},b:${keyB}`);
    const { inspect } = await import('node:util');
    const shown = `${inspect(keyring, { showHidden: true, depth: 10 })} ${JSON.stringify(keyring)} ${String(keyring)}`;
    const rawA = Buffer.from(keyA, 'base64');
    for (const secret of [keyA, keyB, rawA.toString('hex'), rawA.toString('base64url')]) {
      expect(shown).not.toContain(secret);
    }
    expect(JSON.parse(JSON.stringify(keyring))).toEqual({ primaryKeyId: 'a', keyIds: ['a', 'b'] });
  });

  it('is not affected by later changes to a key buffer given to createKeyring', () => {
    const bytes = Buffer.alloc(32, 1);
    const keyring = createKeyring([{ id: 'a', key: bytes }]);
    const ciphertext = encryptToken(keyring, 'secret', 'acct');
    bytes.fill(2);
    expect(decryptToken(keyring, ciphertext, 'acct')).toBe('secret');
  });

  it('rejects an empty entry list', () => {
    expectCryptoError(() => createKeyring([]), CryptoErrorCode.INVALID_KEYRING);
  });

  it('rejects an invalid id for generateKeyringEntry', () => {
    expectCryptoError(() => generateKeyringEntry('bad.id'), CryptoErrorCode.INVALID_ARGUMENT);
  });
});
