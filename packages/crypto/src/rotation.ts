import { CryptoError, CryptoErrorCode } from './errors.js';
import { assertKeyring, type Keyring } from './keyring.js';
import { decryptToken, encryptToken, needsReencryption } from './token.js';

/** One batch of rows from the store, plus where to continue (`undefined` when done). */
export interface ReencryptBatch<Row, Cursor> {
  rows: readonly Row[];
  next: Cursor | undefined;
}

/** The encrypted columns of a row and the AAD they were encrypted with. `null`/`undefined` columns are skipped. */
export interface EncryptedFields {
  aad: string;
  /**
   * AADs of an older scheme the fields may still be under, tried in order when a field does not decrypt under `aad`;
   * such a field is re-encrypted under `aad` (and the primary key). A ciphertext does not show its AAD, so with
   * any given every field is decrypted, not only those under an old key.
   */
  legacyAads?: readonly string[];
  fields: Readonly<Record<string, string | null | undefined>>;
}

/** A row whose listed fields must be replaced. `from` is the ciphertext read, `to` the new one. */
export interface ReencryptUpdate<Row> {
  row: Row;
  fields: Record<string, { from: string; to: string }>;
}

export interface ReencryptProgress {
  /** Rows looked at so far. */
  scanned: number;
  /** Rows handed to `save` with at least one re-encrypted field. */
  reencrypted: number;
  /** Rows that could not be decrypted (see `onError`); left untouched. */
  failed: number;
}

export interface ReencryptAllOptions<Row, Cursor> {
  keyring: Keyring;
  /** Returns the rows after `cursor` (`undefined` on the first call). Keep batches small (e.g. 500). */
  fetchBatch: (cursor: Cursor | undefined) => Promise<ReencryptBatch<Row, Cursor>>;
  /** Picks the ciphertext columns of a row and its AAD. */
  select: (row: Row) => EncryptedFields;
  /**
   * Persists one batch. Must be a compare-and-set on `from` (e.g. `UPDATE … SET access_token = $to
   * WHERE id = $id AND access_token = $from`): a token refresh may have written a newer token since the batch was
   * read, and that one must win. Rows whose `from` no longer matches can be skipped: the new token was written
   * under the primary key anyway.
   */
  save: (updates: readonly ReencryptUpdate<Row>[]) => Promise<void>;
  onProgress?: (progress: Readonly<ReencryptProgress>) => void;
  /**
   * Called for a row that fails to decrypt. Default: rethrow, stopping the run. Return normally to count the row as
   * failed and continue (e.g. after logging `error.code` and the row id).
   */
  onError?: (row: Row, field: string, error: CryptoError) => void;
}

/**
 * Re-encrypts every stored ciphertext that is not yet under the keyring's primary key, batch by batch, so that an
 * old key can be removed from `TOKEN_ENCRYPTION_KEYS`. Storage-agnostic: the db layer supplies `fetchBatch` and `save`.
 * Idempotent and resumable: rows already under the primary key are left alone, so it can simply be run again.
 * Plaintext only lives in memory for the duration of one field.
 */
export async function reencryptAll<Row, Cursor>(options: ReencryptAllOptions<Row, Cursor>): Promise<ReencryptProgress> {
  const { keyring, fetchBatch, select, save, onProgress } = options;
  assertKeyring(keyring);
  const onError =
    options.onError ??
    ((_row: Row, _field: string, error: CryptoError) => {
      throw error;
    });
  const progress: ReencryptProgress = { scanned: 0, reencrypted: 0, failed: 0 };
  let cursor: Cursor | undefined;
  do {
    const batch = await fetchBatch(cursor);
    const updates: ReencryptUpdate<Row>[] = [];
    for (const row of batch.rows) {
      progress.scanned++;
      const { aad, fields, legacyAads = [] } = select(row);
      const changed: ReencryptUpdate<Row>['fields'] = {};
      let rowFailed = false;
      for (const [field, ciphertext] of Object.entries(fields)) {
        if (ciphertext === null || ciphertext === undefined) continue;
        try {
          if (legacyAads.length === 0) {
            if (!needsReencryption(keyring, ciphertext)) continue;
            changed[field] = {
              from: ciphertext,
              to: encryptToken(keyring, decryptToken(keyring, ciphertext, aad), aad),
            };
          } else {
            const opened = decryptUnderAny(keyring, ciphertext, aad, legacyAads);
            if (opened.current && !needsReencryption(keyring, ciphertext)) continue;
            changed[field] = { from: ciphertext, to: encryptToken(keyring, opened.plaintext, aad) };
          }
        } catch (error) {
          if (!(error instanceof CryptoError) || error.code === CryptoErrorCode.INVALID_ARGUMENT) throw error;
          onError(row, field, error);
          rowFailed = true;
        }
      }
      if (rowFailed) progress.failed++;
      if (Object.keys(changed).length > 0) {
        updates.push({ row, fields: changed });
        progress.reencrypted++;
      }
    }
    if (updates.length > 0) await save(updates);
    onProgress?.({ ...progress });
    cursor = batch.next;
  } while (cursor !== undefined);
  return progress;
}

/**
 * Decrypts under `aad`, else under the first of `legacyAads` that authenticates; `current` tells which. Throws the
 * first attempt's error when none does (so a missing key still reads `CRYPTO_UNKNOWN_KEY`).
 */
function decryptUnderAny(
  keyring: Keyring,
  ciphertext: string,
  aad: string,
  legacyAads: readonly string[],
): { plaintext: string; current: boolean } {
  try {
    return { plaintext: decryptToken(keyring, ciphertext, aad), current: true };
  } catch (error) {
    if (!(error instanceof CryptoError) || error.code !== CryptoErrorCode.DECRYPT_FAILED) throw error;
    for (const legacy of legacyAads) {
      try {
        return { plaintext: decryptToken(keyring, ciphertext, legacy), current: false };
      } catch {
        // next one
      }
    }
    throw error;
  }
}
