import { createHash, hkdfSync } from 'node:crypto';
import { CryptoError, CryptoErrorCode } from './errors.js';
import { createKeyring, KEY_BYTES, type Keyring } from './keyring.js';
import { decryptWithPurpose, encryptWithPurpose } from './token.js';

export interface SealOptions {
  /** Reject the payload this many seconds after sealing (checked inside the authenticated envelope). */
  ttlSeconds?: number;
  /** Clock for tests. Default `Date.now()`. */
  now?: number;
}

export interface UnsealOptions {
  /** Clock for tests. Default `Date.now()`. */
  now?: number;
}

interface Envelope {
  /** The sealed value. */
  v: unknown;
  /** Expiry, Unix seconds. */
  e?: number;
}

/**
 * Encrypts a JSON-serialisable value in the same `v1.<keyId>.<iv>.<ciphertext+tag>` format as tokens, for short-lived
 * sealed cookies (OAuth state, PKCE verifier) and job payloads. A sealed value cannot be passed off as a token
 * ciphertext or vice versa: the purpose is part of the authenticated data.
 *
 * @param aad binds the payload to its context, e.g. `oauth-state:<connectSessionId>`; must be non-empty and equal on unseal.
 */
export function sealJson(keyring: Keyring, value: unknown, aad: string, options: SealOptions = {}): string {
  const envelope: Envelope = { v: value };
  if (options.ttlSeconds !== undefined) {
    if (!Number.isFinite(options.ttlSeconds) || options.ttlSeconds <= 0) {
      throw new CryptoError(CryptoErrorCode.INVALID_ARGUMENT, 'ttlSeconds must be a positive number');
    }
    envelope.e = Math.floor((options.now ?? Date.now()) / 1000) + options.ttlSeconds;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(envelope);
  } catch (error) {
    throw new CryptoError(CryptoErrorCode.INVALID_ARGUMENT, 'value is not JSON-serialisable', { cause: error });
  }
  if (value === undefined || json === undefined) {
    throw new CryptoError(CryptoErrorCode.INVALID_ARGUMENT, 'value is not JSON-serialisable');
  }
  return encryptWithPurpose(keyring, json, aad, 'json');
}

/**
 * Opens a value sealed by {@link sealJson}. The result is `unknown` on purpose: validate it (e.g. with zod)
 * before trusting its shape, as for any input.
 *
 * @throws {CryptoError} `CRYPTO_MALFORMED`, `CRYPTO_UNKNOWN_KEY`, `CRYPTO_DECRYPT_FAILED` as for tokens,
 *   and `CRYPTO_EXPIRED` once the sealed `ttlSeconds` have passed.
 */
export function unsealJson(keyring: Keyring, sealed: string, aad: string, options: UnsealOptions = {}): unknown {
  const json = decryptWithPurpose(keyring, sealed, aad, 'json');
  let envelope: Envelope;
  try {
    envelope = JSON.parse(json) as Envelope;
  } catch (error) {
    // Only reachable if someone sealed non-JSON with our key under the json purpose: treat as malformed.
    throw new CryptoError(CryptoErrorCode.MALFORMED, 'sealed payload is not JSON', { cause: error });
  }
  if (typeof envelope !== 'object' || envelope === null || !('v' in envelope)) {
    throw new CryptoError(CryptoErrorCode.MALFORMED, 'sealed payload has no value');
  }
  if (envelope.e !== undefined && Math.floor((options.now ?? Date.now()) / 1000) >= envelope.e) {
    throw new CryptoError(CryptoErrorCode.EXPIRED, 'sealed payload has expired');
  }
  return envelope.v;
}

/** Below this a secret is too guessable to stretch into an AES key with HKDF (which adds no work factor). */
export const MIN_SECRET_LENGTH = 32;

/**
 * Derives a keyring from free-form secrets (e.g. `COOKIE_SECRET`), newest first, for {@link sealJson}.
 * Each secret becomes one AES-256 key via HKDF-SHA256 with `context` as info, so the same secret used for two
 * purposes yields unrelated keys. Key ids are a short fingerprint of the derived key, so rotating the secret
 * changes the id and old cookies fail with `CRYPTO_UNKNOWN_KEY` once the old secret is dropped.
 */
export function keyringFromSecrets(secrets: string | readonly string[], context: string): Keyring {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (context === '') throw new CryptoError(CryptoErrorCode.INVALID_ARGUMENT, 'context must be non-empty');
  return createKeyring(
    list.map((secret, index) => {
      if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
        throw new CryptoError(
          CryptoErrorCode.INVALID_KEYRING,
          `secret ${index + 1} of ${list.length} is shorter than ${MIN_SECRET_LENGTH} characters`,
        );
      }
      const key = Buffer.from(hkdfSync('sha256', secret, '', `ttc-crypto:${context}`, KEY_BYTES));
      const id = `s${createHash('sha256').update(key).digest('base64url').slice(0, 10)}`;
      return { id, key };
    }),
  );
}
