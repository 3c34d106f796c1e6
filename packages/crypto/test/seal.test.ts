import { describe, expect, it } from 'vitest';
import {
  CryptoErrorCode,
  decryptToken,
  encryptToken,
  generateKey,
  keyringFromSecrets,
  parseKeyring,
  sealJson,
  unsealJson,
} from '../src/index.js';
import { expectCryptoError } from './helpers.js';

const keyring = parseKeyring(`a:${generateKey()}`);
const state = { state: 'st_123', codeVerifier: 'verifier-secret-value', returnTo: 'https://app.example/ok' };

describe('sealJson / unsealJson', () => {
  it('round-trips a JSON value in the token format', () => {
    const sealed = sealJson(keyring, state, 'oauth:session-1');
    expect(sealed).toMatch(/^v1\.a\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('verifier-secret-value');
    expect(unsealJson(keyring, sealed, 'oauth:session-1')).toEqual(state);
  });

  it.each([null, 0, '', 'ü🔑', [1, 'two'], { nested: { deep: true } }])('round-trips %j', (value) => {
    expect(unsealJson(keyring, sealJson(keyring, value, 'ctx'), 'ctx')).toEqual(value);
  });

  it('rejects undefined and non-serialisable values', () => {
    expectCryptoError(() => sealJson(keyring, undefined, 'ctx'), CryptoErrorCode.INVALID_ARGUMENT);
    expectCryptoError(() => sealJson(keyring, { n: 1n }, 'ctx'), CryptoErrorCode.INVALID_ARGUMENT);
  });

  it('fails for another context (aad)', () => {
    const sealed = sealJson(keyring, state, 'oauth:session-1');
    expectCryptoError(() => unsealJson(keyring, sealed, 'oauth:session-2'), CryptoErrorCode.DECRYPT_FAILED);
  });

  it('does not accept a sealed payload as a token or a token as a sealed payload', () => {
    const sealed = sealJson(keyring, 'tok', 'ctx');
    expectCryptoError(() => decryptToken(keyring, sealed, 'ctx'), CryptoErrorCode.DECRYPT_FAILED);
    const token = encryptToken(keyring, '{"v":"tok"}', 'ctx');
    expectCryptoError(() => unsealJson(keyring, token, 'ctx'), CryptoErrorCode.DECRYPT_FAILED);
  });

  it('expires after ttlSeconds', () => {
    const now = Date.UTC(2025, 0, 1);
    const sealed = sealJson(keyring, state, 'ctx', { ttlSeconds: 600, now });
    expect(unsealJson(keyring, sealed, 'ctx', { now: now + 599_000 })).toEqual(state);
    expectCryptoError(() => unsealJson(keyring, sealed, 'ctx', { now: now + 600_000 }), CryptoErrorCode.EXPIRED);
  });

  it('rejects a non-positive ttl', () => {
    expectCryptoError(() => sealJson(keyring, 1, 'ctx', { ttlSeconds: 0 }), CryptoErrorCode.INVALID_ARGUMENT);
  });
});

describe('keyringFromSecrets', () => {
  const secret = 'a-cookie-secret-of-at-least-32-characters';
  const newer = 'another-cookie-secret-32-characters-long';

  it('derives the same keyring from the same secret and context', () => {
    const sealed = sealJson(keyringFromSecrets(secret, 'cookie'), state, 'ctx');
    expect(unsealJson(keyringFromSecrets(secret, 'cookie'), sealed, 'ctx')).toEqual(state);
  });

  it('derives unrelated keys for different contexts', () => {
    const sealed = sealJson(keyringFromSecrets(secret, 'cookie'), state, 'ctx');
    expectCryptoError(() => unsealJson(keyringFromSecrets(secret, 'jobs'), sealed, 'ctx'), CryptoErrorCode.UNKNOWN_KEY);
  });

  it('keeps opening payloads sealed under an older secret listed second', () => {
    const sealed = sealJson(keyringFromSecrets(secret, 'cookie'), state, 'ctx');
    const rotated = keyringFromSecrets([newer, secret], 'cookie');
    expect(unsealJson(rotated, sealed, 'ctx')).toEqual(state);
    expect(rotated.keyIds).toHaveLength(2);
  });

  it('rejects a short secret without echoing it', () => {
    const error = expectCryptoError(
      () => keyringFromSecrets('short-secret', 'cookie'),
      CryptoErrorCode.INVALID_KEYRING,
    );
    expect(error.message).not.toContain('short-secret');
  });

  it('does not expose the secret in key ids', () => {
    const keyring = keyringFromSecrets(secret, 'cookie');
    expect(JSON.stringify(keyring)).not.toContain(secret.slice(0, 8));
  });
});
