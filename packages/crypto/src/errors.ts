/** Stable codes for every error this package throws. */
export const CryptoErrorCode = {
  /** `TOKEN_ENCRYPTION_KEYS` (or a keyring passed in code) is empty or has a bad entry. */
  INVALID_KEYRING: 'CRYPTO_INVALID_KEYRING',
  /** The ciphertext names a key id the keyring does not hold (e.g. the old key was removed too early). */
  UNKNOWN_KEY: 'CRYPTO_UNKNOWN_KEY',
  /** The ciphertext is not in the `v1.<keyId>.<iv>.<ciphertext+tag>` form (or has an unsupported version). */
  MALFORMED: 'CRYPTO_MALFORMED',
  /** Authentication failed: tampered data, wrong key, or the ciphertext belongs to another account (other AAD). */
  DECRYPT_FAILED: 'CRYPTO_DECRYPT_FAILED',
  /** A sealed payload is past its expiry. */
  EXPIRED: 'CRYPTO_EXPIRED',
  /** A caller passed an argument of the wrong type or shape (a programming error, not bad data). */
  INVALID_ARGUMENT: 'CRYPTO_INVALID_ARGUMENT',
} as const;

export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

/**
 * The only error type this package throws. Messages are written for operators and never contain
 * plaintext, ciphertext bodies or key material, so they are safe to log.
 */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Narrows `error` to a {@link CryptoError}, optionally with a given code. */
export function isCryptoError(error: unknown, code?: CryptoErrorCode): error is CryptoError {
  return error instanceof CryptoError && (code === undefined || error.code === code);
}

/** Thrown for bad keyring entries; `entry` is the 1-based position in the list, `keyId` only once it is known valid. */
export class KeyringError extends CryptoError {
  readonly entry: number | undefined;
  readonly keyId: string | undefined;

  constructor(message: string, details: { entry?: number; keyId?: string } = {}) {
    super(CryptoErrorCode.INVALID_KEYRING, message);
    this.entry = details.entry;
    this.keyId = details.keyId;
  }
}
