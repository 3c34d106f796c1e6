import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CryptoError, CryptoErrorCode } from './errors.js';
import { assertKeyring, KEY_ID_PATTERN, type Keyring, keyBytes } from './keyring.js';

/** The only format version so far; bump it (and keep decrypting the old one) if the scheme ever changes. */
export const FORMAT_VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * What a ciphertext is for. Mixed into the associated data so that a sealed JSON payload can never be accepted
 * where a token is expected (and vice versa), even under the same key and caller AAD.
 * @internal
 */
export type Purpose = 'token' | 'json';

/** The parts of a ciphertext string, as {@link inspectCiphertext} returns them. */
export interface CiphertextHeader {
  version: typeof FORMAT_VERSION;
  keyId: string;
}

interface ParsedCiphertext extends CiphertextHeader {
  iv: Buffer;
  body: Buffer;
}

function malformed(reason: string): CryptoError {
  return new CryptoError(CryptoErrorCode.MALFORMED, `malformed ciphertext: ${reason}`);
}

function requireString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') throw new CryptoError(CryptoErrorCode.INVALID_ARGUMENT, `${what} must be a string`);
}

function requireAad(aad: unknown): asserts aad is string {
  requireString(aad, 'aad');
  // An empty AAD would silently drop the binding to the account, which is the point of having one.
  if (aad === '') {
    throw new CryptoError(
      CryptoErrorCode.INVALID_ARGUMENT,
      'aad must be a non-empty string (e.g. the account identity)',
    );
  }
}

/** Strict base64url: rejects padding, stray characters and non-canonical trailing bits, so every byte flip is seen. */
function decodeBase64url(text: string, what: string): Buffer {
  if (!BASE64URL.test(text)) throw malformed(`${what} is not base64url`);
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw malformed(`${what} is not canonical base64url`);
  return bytes;
}

function parse(ciphertext: unknown): ParsedCiphertext {
  if (typeof ciphertext !== 'string') throw malformed('expected a string');
  const parts = ciphertext.split('.');
  if (parts.length !== 4) throw malformed(`expected 4 dot-separated parts, found ${parts.length}`);
  const [version, keyId, ivText, bodyText] = parts as [string, string, string, string];
  // Only echo the version back when it looks like one; it is attacker- or corruption-controlled text.
  if (version !== FORMAT_VERSION) {
    throw malformed(/^v\d{1,3}$/.test(version) ? `unsupported version "${version}"` : 'unsupported version');
  }
  if (!KEY_ID_PATTERN.test(keyId)) throw malformed('invalid key id');
  const iv = decodeBase64url(ivText, 'iv');
  if (iv.length !== IV_BYTES) throw malformed(`iv must be ${IV_BYTES} bytes`);
  const body = decodeBase64url(bodyText, 'ciphertext');
  if (body.length < TAG_BYTES) throw malformed('ciphertext is shorter than the authentication tag');
  return { version, keyId, iv, body };
}

/**
 * The header and caller AAD are both authenticated: swapping the key id or version, or moving the ciphertext to
 * another account's row, fails the tag check. Key ids cannot contain "." and the purpose is fixed, so the
 * concatenation is unambiguous.
 */
function associatedData(version: string, keyId: string, purpose: Purpose, aad: string): Buffer {
  return Buffer.from(`${version}.${keyId}.${purpose}.${aad}`, 'utf8');
}

/** @internal */
export function encryptWithPurpose(keyring: Keyring, plaintext: string, aad: string, purpose: Purpose): string {
  assertKeyring(keyring);
  requireString(plaintext, 'plaintext');
  requireAad(aad);
  const keyId = keyring.primaryKeyId;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, keyBytes(keyring, keyId), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(FORMAT_VERSION, keyId, purpose, aad));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${FORMAT_VERSION}.${keyId}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** @internal */
export function decryptWithPurpose(keyring: Keyring, ciphertext: string, aad: string, purpose: Purpose): string {
  assertKeyring(keyring);
  requireAad(aad);
  const { version, keyId, iv, body } = parse(ciphertext);
  const key = keyBytes(keyring, keyId);
  const tagStart = body.length - TAG_BYTES;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(version, keyId, purpose, aad));
    decipher.setAuthTag(body.subarray(tagStart));
    const plaintext = Buffer.concat([decipher.update(body.subarray(0, tagStart)), decipher.final()]);
    return plaintext.toString('utf8');
  } catch (error) {
    // node's own message ("Unsupported state or unable to authenticate data") says nothing useful and the cause
    // carries no secrets, so it is kept for debugging.
    throw new CryptoError(
      CryptoErrorCode.DECRYPT_FAILED,
      `could not decrypt ciphertext under key id "${keyId}": it was tampered with, or belongs to another record (associated data mismatch)`,
      { cause: error },
    );
  }
}

/**
 * Encrypts a token (or any string) with AES-256-GCM under the keyring's primary key.
 *
 * @param aad the identity of the record the token belongs to, e.g. `tiktok:<userId>:<openId>` or the account id.
 *   It is not stored in the output; the same value must be passed to {@link decryptToken}, so a ciphertext copied
 *   to another account's row does not decrypt there. Must be non-empty.
 * @returns `v1.<keyId>.<iv>.<ciphertext+tag>`: URL-safe (base64url parts), with a fresh random 12-byte IV each call.
 */
export function encryptToken(keyring: Keyring, plaintext: string, aad: string): string {
  return encryptWithPurpose(keyring, plaintext, aad, 'token');
}

/**
 * Decrypts a value from {@link encryptToken} with whichever keyring key it names.
 *
 * @throws {CryptoError} `CRYPTO_MALFORMED` (not in the v1 format), `CRYPTO_UNKNOWN_KEY` (key id not in the keyring),
 *   `CRYPTO_DECRYPT_FAILED` (tampered, or `aad` differs from the one used to encrypt).
 */
export function decryptToken(keyring: Keyring, ciphertext: string, aad: string): string {
  return decryptWithPurpose(keyring, ciphertext, aad, 'token');
}

/**
 * Reads the version and key id of a ciphertext without decrypting it (no key needed).
 * @throws {CryptoError} `CRYPTO_MALFORMED`.
 */
export function inspectCiphertext(ciphertext: string): CiphertextHeader {
  const { version, keyId } = parse(ciphertext);
  return { version, keyId };
}

/**
 * Whether `ciphertext` was written under a key other than the keyring's current primary key, i.e. whether
 * re-encryption is still needed before an old key can be removed. Does not decrypt or authenticate.
 * @throws {CryptoError} `CRYPTO_MALFORMED`.
 */
export function needsReencryption(keyring: Keyring, ciphertext: string): boolean {
  assertKeyring(keyring);
  return parse(ciphertext).keyId !== keyring.primaryKeyId;
}

/**
 * Decrypts `ciphertext` and encrypts it again under the primary key. Returns the input unchanged when it is already
 * under the primary key (after checking that it decrypts), so it is cheap and safe to call on every row.
 * @throws {CryptoError} as {@link decryptToken}.
 */
export function reencryptToken(keyring: Keyring, ciphertext: string, aad: string): string {
  const plaintext = decryptToken(keyring, ciphertext, aad);
  return needsReencryption(keyring, ciphertext) ? encryptToken(keyring, plaintext, aad) : ciphertext;
}
