/**
 * Token encryption for stored OAuth tokens and sealed payloads: AES-256-GCM under a keyring whose first key
 * encrypts and whose every key decrypts, so keys can be rotated without downtime. See README.md for the format
 * and the rotation procedure.
 */
export { CryptoError, CryptoErrorCode, isCryptoError, KeyringError } from './errors.js';
export { hashToken, safeEqual } from './hash.js';
export {
  createKeyring,
  generateKey,
  generateKeyringEntry,
  KEY_BYTES,
  KEY_ID_PATTERN,
  Keyring,
  type KeyringEntry,
  type ParseKeyringOptions,
  parseKeyring,
} from './keyring.js';
export {
  type EncryptedFields,
  type ReencryptAllOptions,
  type ReencryptBatch,
  type ReencryptProgress,
  type ReencryptUpdate,
  reencryptAll,
} from './rotation.js';
export {
  keyringFromSecrets,
  MIN_SECRET_LENGTH,
  type SealOptions,
  sealJson,
  type UnsealOptions,
  unsealJson,
} from './seal.js';
export {
  type CiphertextHeader,
  decryptToken,
  encryptToken,
  FORMAT_VERSION,
  inspectCiphertext,
  needsReencryption,
  reencryptToken,
} from './token.js';
