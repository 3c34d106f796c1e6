import { type CryptoError, type Keyring, reencryptAll } from '@ttc/crypto';
import type { PrismaClient } from '@ttc/db';
import { legacyTokenAad, readsLegacyAad, tokenAad } from './aad.js';
import type { AccountsLogger } from './deps.js';

/** What {@link reencryptStoredTokens} needs: no Redis, no TikTok. */
export interface ReencryptStoredTokensDeps {
  prisma: PrismaClient;
  /** The new keyring: its primary key is the target, the old keys must still be in it to decrypt. */
  keyring: Keyring;
  /** Told which accounts cannot be decrypted (ids and error codes only, never a ciphertext). */
  logger?: AccountsLogger;
}

/** Counts of a run. `scanned = reencrypted + skippedChanged + failed + rows already under the primary key and AAD`. */
export interface ReencryptStoredTokensReport {
  /** Rows holding at least one token ciphertext that were read. */
  scanned: number;
  /** Rows written under the primary key and current AAD (with `dryRun`: rows that would be). */
  reencrypted: number;
  /** Rows whose tokens changed between read and write (a refresh or a disconnect won): left as they are. */
  skippedChanged: number;
  /** Rows that decrypt under no key of the keyring (or not with their own account's AAD): left untouched. */
  failed: number;
}

/** One line of progress, after each batch was saved. */
export interface ReencryptStoredTokensProgress extends ReencryptStoredTokensReport {
  /** 1-based number of the batch just done. */
  batch: number;
  /** Rows with a ciphertext when the run started (rows connected meanwhile may push `scanned` past it). */
  total: number;
  elapsedMs: number;
}

export interface ReencryptStoredTokensOptions {
  /** Rows per batch: one SELECT and at most one UPDATE each. Default 500. */
  batchSize?: number;
  /** Decrypt and count, write nothing. */
  dryRun?: boolean;
  onProgress?: (progress: Readonly<ReencryptStoredTokensProgress>) => void;
}

interface TokenRow {
  id: string;
  userId: string;
  openId: string;
  accessTokenCiphertext: string | null;
  refreshTokenCiphertext: string | null;
}

type Column = 'accessTokenCiphertext' | 'refreshTokenCiphertext';

const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Moves every stored token ciphertext in `social_accounts` to the keyring's primary key and the current AAD
 * (`tokenAad`, from the legacy `tiktok:<userId>:<openId>`), so that an old key can leave `TOKEN_ENCRYPTION_KEYS` and
 * the legacy AAD can stop being read. Walks the rows holding a ciphertext in id order (keyset, resumable, no OFFSET), and
 * writes each changed row with a compare-and-set on both columns as read: a refresh that rotated the tokens
 * meanwhile wrote them under the primary key already and must win, so such a row is only counted
 * (`skippedChanged`). Idempotent: run it again until it reports nothing re-encrypted and nothing failed.
 *
 * `token_version` is deliberately left alone: it fences refreshes, and bumping it would make a refresh in flight
 * discard the rotated refresh token TikTok just issued.
 */
export async function reencryptStoredTokens(
  deps: ReencryptStoredTokensDeps,
  opts: ReencryptStoredTokensOptions = {},
): Promise<ReencryptStoredTokensReport> {
  const { prisma, keyring, logger } = deps;
  const batchSize = opts.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const started = performance.now();
  const [counted] = await prisma.$queryRaw<{ total: bigint }[]>`
    SELECT count(*) AS total FROM social_accounts
    WHERE access_token_ciphertext IS NOT NULL OR refresh_token_ciphertext IS NOT NULL`;
  const total = Number(counted?.total ?? 0);

  const report: ReencryptStoredTokensReport = { scanned: 0, reencrypted: 0, skippedChanged: 0, failed: 0 };
  // Undecryptable rows of the current batch: kept out of the save, so a half-readable row stays exactly as it was.
  const failedIds = new Set<string>();
  let batch = 0;
  let batchRows = 0;

  await reencryptAll<TokenRow, string>({
    keyring,
    fetchBatch: async (cursor) => {
      const rows = await prisma.$queryRaw<TokenRow[]>`
        SELECT id::text AS id, user_id AS "userId", open_id AS "openId",
               access_token_ciphertext AS "accessTokenCiphertext", refresh_token_ciphertext AS "refreshTokenCiphertext"
        FROM social_accounts
        WHERE id > ${cursor ?? FIRST_ID}::uuid
          AND (access_token_ciphertext IS NOT NULL OR refresh_token_ciphertext IS NOT NULL)
        ORDER BY id
        LIMIT ${batchSize}`;
      batchRows = rows.length;
      failedIds.clear();
      return { rows, next: rows.length === batchSize ? rows.at(-1)?.id : undefined };
    },
    select: (row) => ({
      aad: tokenAad(row),
      // Ciphertexts from before the tiktok/v2 AAD are moved to it too (when the legacy AAD is unambiguous).
      ...(readsLegacyAad(row) ? { legacyAads: [legacyTokenAad(row)] } : {}),
      fields: { accessTokenCiphertext: row.accessTokenCiphertext, refreshTokenCiphertext: row.refreshTokenCiphertext },
    }),
    onError: (row, field, error: CryptoError) => {
      if (failedIds.has(row.id)) return;
      failedIds.add(row.id);
      logger?.warn(
        { accountId: row.id, field, code: error.code },
        'cannot re-encrypt this account: its tokens decrypt under no key of TOKEN_ENCRYPTION_KEYS',
      );
    },
    save: async (updates) => {
      const writes = updates.filter((u) => !failedIds.has(u.row.id));
      if (opts.dryRun) {
        report.reencrypted += writes.length;
        return;
      }
      if (writes.length === 0) return;
      const next = (u: (typeof writes)[number], column: Column) => u.fields[column]?.to ?? u.row[column];
      // One statement per batch; the WHERE compares both columns with what was read (NULL included: a disconnect
      // that wiped them also wins).
      const written = await prisma.$queryRaw<{ id: string }[]>`
        UPDATE social_accounts AS a SET
          access_token_ciphertext = u.new_access,
          refresh_token_ciphertext = u.new_refresh
        FROM unnest(
          ${writes.map((u) => u.row.id)}::uuid[],
          ${writes.map((u) => u.row.accessTokenCiphertext)}::text[],
          ${writes.map((u) => u.row.refreshTokenCiphertext)}::text[],
          ${writes.map((u) => next(u, 'accessTokenCiphertext'))}::text[],
          ${writes.map((u) => next(u, 'refreshTokenCiphertext'))}::text[]
        ) AS u(id, old_access, old_refresh, new_access, new_refresh)
        WHERE a.id = u.id
          AND a.access_token_ciphertext IS NOT DISTINCT FROM u.old_access
          AND a.refresh_token_ciphertext IS NOT DISTINCT FROM u.old_refresh
        RETURNING a.id::text AS id`;
      report.reencrypted += written.length;
      report.skippedChanged += writes.length - written.length;
    },
    onProgress: (p) => {
      report.failed += failedIds.size;
      failedIds.clear();
      // reencryptAll also reports the empty page that ends a table whose size is a multiple of the batch size.
      if (batchRows === 0) return;
      report.scanned = p.scanned;
      batch++;
      opts.onProgress?.({ ...report, batch, total, elapsedMs: Math.round(performance.now() - started) });
    },
  });
  return { ...report };
}
