import { randomBytes } from 'node:crypto';
import { CryptoError, CryptoErrorCode, KeyringError } from './errors.js';

/** AES-256 needs exactly 32 bytes of key. */
export const KEY_BYTES = 32;
/** Key ids appear inside every ciphertext, so they are short and cannot contain the `.` separator. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Key bytes live here rather than on the Keyring object so that `console.log(keyring)`,
 * `JSON.stringify(keyring)` and structured loggers can never print them.
 */
const material = new WeakMap<Keyring, ReadonlyMap<string, Buffer>>();

/**
 * An ordered set of AES-256 keys. The first key (the primary) encrypts; every key decrypts.
 * Imported once and cached: encrypting never re-parses or re-decodes keys.
 */
export class Keyring {
  /** Id of the key new ciphertexts are written under. */
  readonly primaryKeyId: string;
  /** All key ids, primary first. */
  readonly keyIds: readonly string[];

  /** @internal use {@link parseKeyring} or {@link createKeyring}. */
  constructor(keys: ReadonlyMap<string, Buffer>) {
    const ids = [...keys.keys()];
    if (ids[0] === undefined) throw new KeyringError('keyring is empty: at least one key is required');
    this.primaryKeyId = ids[0];
    this.keyIds = Object.freeze(ids);
    material.set(this, keys);
    Object.freeze(this);
  }

  /** Whether the keyring can decrypt ciphertexts written under `keyId`. */
  has(keyId: string): boolean {
    return material.get(this)?.has(keyId) ?? false;
  }

  toJSON(): { primaryKeyId: string; keyIds: readonly string[] } {
    return { primaryKeyId: this.primaryKeyId, keyIds: this.keyIds };
  }
}

/** @internal Key bytes for `keyId`; throws `CRYPTO_UNKNOWN_KEY`. Not exported from the package. */
export function keyBytes(keyring: Keyring, keyId: string): Buffer {
  const keys = material.get(keyring);
  if (keys === undefined) {
    throw new CryptoError(CryptoErrorCode.INVALID_ARGUMENT, 'expected a Keyring built by parseKeyring/createKeyring');
  }
  const key = keys.get(keyId);
  if (key === undefined) {
    throw new CryptoError(
      CryptoErrorCode.UNKNOWN_KEY,
      `ciphertext was encrypted under key id "${keyId}", which is not in the keyring (${keyring.keyIds.join(', ')})`,
    );
  }
  return key;
}

/** @internal */
export function assertKeyring(keyring: unknown): asserts keyring is Keyring {
  if (!(keyring instanceof Keyring) || !material.has(keyring)) {
    throw new CryptoError(CryptoErrorCode.INVALID_ARGUMENT, 'expected a Keyring built by parseKeyring/createKeyring');
  }
}

export interface ParseKeyringOptions {
  /** Setting name used in error messages. Default `TOKEN_ENCRYPTION_KEYS`. */
  name?: string;
}

/**
 * Parses a keyring setting: comma-separated `keyId:base64key` entries, primary (encrypting) key first.
 * Keys are 32 bytes in standard or URL-safe base64; ids match `[A-Za-z0-9_-]{1,32}`; whitespace around entries is ignored.
 *
 * @throws {KeyringError} code `CRYPTO_INVALID_KEYRING`; the message names the setting, the entry's 1-based position
 * and, once it is known to be valid, its key id. It never quotes the entry itself, because a misplaced
 * separator can put key material where the id should be.
 */
export function parseKeyring(value: string, options: ParseKeyringOptions = {}): Keyring {
  const name = options.name ?? 'TOKEN_ENCRYPTION_KEYS';
  if (typeof value !== 'string' || value.trim() === '') {
    throw new KeyringError(`${name} is empty: expected comma-separated keyId:base64key entries (32-byte keys)`);
  }
  const keys = new Map<string, Buffer>();
  const entries = value.split(',');
  entries.forEach((raw, index) => {
    const entry = index + 1;
    const where = `${name} entry ${entry} of ${entries.length}`;
    const trimmed = raw.trim();
    if (trimmed === '') throw new KeyringError(`${where} is empty (stray comma?)`, { entry });
    const colon = trimmed.indexOf(':');
    if (colon === -1) {
      throw new KeyringError(`${where} is not in keyId:base64key form (no ":" found)`, { entry });
    }
    const keyId = trimmed.slice(0, colon).trim();
    const encoded = trimmed.slice(colon + 1).trim();
    if (!KEY_ID_PATTERN.test(keyId)) {
      throw new KeyringError(`${where} has an invalid key id: expected 1-32 characters of [A-Za-z0-9_-]`, { entry });
    }
    const at = `${where} (key id "${keyId}")`;
    if (keys.has(keyId)) throw new KeyringError(`${at} repeats a key id used earlier in the list`, { entry, keyId });
    if (encoded === '') throw new KeyringError(`${at} has no key after ":"`, { entry, keyId });
    if (!BASE64_PATTERN.test(encoded) && !BASE64URL_PATTERN.test(encoded)) {
      throw new KeyringError(`${at} has a key that is not valid base64`, { entry, keyId });
    }
    const key = Buffer.from(encoded, encoded.includes('+') || encoded.includes('/') ? 'base64' : 'base64url');
    if (key.length !== KEY_BYTES) {
      throw new KeyringError(`${at} has a key of ${key.length} bytes; AES-256 needs exactly ${KEY_BYTES}`, {
        entry,
        keyId,
      });
    }
    keys.set(keyId, key);
  });
  return new Keyring(keys);
}

/** A key given in code: raw bytes or base64/base64url text. */
export interface KeyringEntry {
  id: string;
  key: Uint8Array | string;
}

/**
 * Builds a keyring from entries given in code (primary first), with the same validation as {@link parseKeyring}.
 * Byte keys are copied, so later changes to the caller's buffer do not affect the keyring.
 */
export function createKeyring(entries: readonly KeyringEntry[]): Keyring {
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new KeyringError('keyring is empty: at least one key is required');
  }
  const text = entries.map(({ id, key }) =>
    typeof key === 'string' ? `${id}:${key}` : `${id}:${Buffer.from(key).toString('base64')}`,
  );
  if (text.some((entry) => entry.includes(','))) {
    const entry = text.findIndex((e) => e.includes(',')) + 1;
    throw new KeyringError(`keyring entry ${entry} of ${entries.length} contains a ","`, { entry });
  }
  return parseKeyring(text.join(','), { name: 'keyring' });
}

/** A fresh random key: base64 of 32 bytes from the OS CSPRNG. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/**
 * A ready-to-use `keyId:base64key` entry, e.g. for a development default or for the rotation procedure
 * (prepend the result to `TOKEN_ENCRYPTION_KEYS`). Defaults the id to `k` + a UTC timestamp (`k20250131T120000`)
 * so ids sort by age and stay unique without coordination.
 */
export function generateKeyringEntry(id: string = defaultKeyId()): string {
  if (!KEY_ID_PATTERN.test(id)) {
    throw new CryptoError(
      CryptoErrorCode.INVALID_ARGUMENT,
      'key id must be 1-32 characters of [A-Za-z0-9_-] (it is embedded in every ciphertext)',
    );
  }
  return `${id}:${generateKey()}`;
}

function defaultKeyId(): string {
  return `k${new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')}`;
}
