import { describe, expect, it } from 'vitest';
import {
  type CryptoError,
  CryptoErrorCode,
  decryptToken,
  encryptToken,
  generateKey,
  inspectCiphertext,
  parseKeyring,
  type ReencryptProgress,
  type ReencryptUpdate,
  reencryptAll,
} from '../src/index.js';

interface Row {
  id: number;
  accessToken: string | null;
  refreshToken: string | null;
}

const oldEntry = `old:${generateKey()}`;
const newEntry = `new:${generateKey()}`;
const oldKeyring = parseKeyring(oldEntry);
const rotated = parseKeyring(`${newEntry},${oldEntry}`);
const aadOf = (id: number) => `account:${id}`;

/** An in-memory table with id-ordered pages and a compare-and-set update, like the db layer should provide. */
function table(rows: Row[]) {
  const byId = new Map(rows.map((row) => [row.id, { ...row }]));
  return {
    byId,
    async fetchBatch(cursor: number | undefined) {
      const page = [...byId.values()].filter((row) => row.id > (cursor ?? 0)).slice(0, 3);
      return { rows: page.map((row) => ({ ...row })), next: page.length === 3 ? page.at(-1)?.id : undefined };
    },
    async save(updates: readonly ReencryptUpdate<Row>[]) {
      for (const { row, fields } of updates) {
        const stored = byId.get(row.id);
        if (!stored) continue;
        for (const [field, { from, to }] of Object.entries(fields)) {
          const column = field as 'accessToken' | 'refreshToken';
          if (stored[column] === from) stored[column] = to;
        }
      }
    },
  };
}

function seed(count: number): Row[] {
  return Array.from({ length: count }, (_, i) => {
    const id = i + 1;
    const keyring = id % 3 === 0 ? rotated : oldKeyring; // some rows already under the new key
    return {
      id,
      accessToken: encryptToken(keyring, `act.${id}`, aadOf(id)),
      refreshToken: id === 5 ? null : encryptToken(keyring, `rft.${id}`, aadOf(id)),
    };
  });
}

const select = (row: Row) => ({
  aad: aadOf(row.id),
  fields: { accessToken: row.accessToken, refreshToken: row.refreshToken },
});

describe('reencryptAll', () => {
  it('moves every ciphertext to the primary key, batch by batch, and leaves the rest alone', async () => {
    const db = table(seed(10));
    const before = new Map([...db.byId].map(([id, row]) => [id, { ...row }]));
    const progress: ReencryptProgress[] = [];
    const result = await reencryptAll({ keyring: rotated, ...db, select, onProgress: (p) => progress.push(p) });

    expect(result).toEqual({ scanned: 10, reencrypted: 7, failed: 0 });
    expect(progress.map((p) => p.scanned)).toEqual([3, 6, 9, 10]);
    const newOnly = parseKeyring(newEntry);
    for (const [id, row] of db.byId) {
      expect(inspectCiphertext(row.accessToken ?? '').keyId).toBe('new');
      expect(decryptToken(newOnly, row.accessToken ?? '', aadOf(id))).toBe(`act.${id}`);
      if (id === 5) expect(row.refreshToken).toBeNull();
      else expect(decryptToken(newOnly, row.refreshToken ?? '', aadOf(id))).toBe(`rft.${id}`);
      if (id % 3 === 0) expect(row).toEqual(before.get(id));
    }
  });

  it('is idempotent: a second run changes nothing', async () => {
    const db = table(seed(4));
    await reencryptAll({ keyring: rotated, ...db, select });
    let saves = 0;
    const result = await reencryptAll({
      keyring: rotated,
      ...db,
      select,
      save: async () => {
        saves++;
      },
    });
    expect(result).toEqual({ scanned: 4, reencrypted: 0, failed: 0 });
    expect(saves).toBe(0);
  });

  it('stops at the first undecryptable row by default', async () => {
    const rows = seed(4);
    rows[1] = { ...rows[1]!, accessToken: encryptToken(oldKeyring, 'act.x', 'account:999') };
    const db = table(rows);
    await expect(reencryptAll({ keyring: rotated, ...db, select })).rejects.toMatchObject({
      code: CryptoErrorCode.DECRYPT_FAILED,
    });
  });

  it('counts undecryptable rows and carries on when onError returns', async () => {
    const rows = seed(4);
    rows[1] = { ...rows[1]!, accessToken: encryptToken(oldKeyring, 'act.x', 'account:999') };
    const db = table(rows);
    const errors: Array<[number, string, string]> = [];
    const result = await reencryptAll({
      keyring: rotated,
      ...db,
      select,
      onError: (row, field, error: CryptoError) => errors.push([row.id, field, error.code]),
    });
    expect(errors).toEqual([[2, 'accessToken', CryptoErrorCode.DECRYPT_FAILED]]);
    expect(result).toEqual({ scanned: 4, reencrypted: 3, failed: 1 });
    // The good field of the failing row still moves; the bad one is left as it was.
    expect(inspectCiphertext(db.byId.get(2)?.refreshToken ?? '').keyId).toBe('new');
    expect(inspectCiphertext(db.byId.get(2)?.accessToken ?? '').keyId).toBe('old');
  });

  it('does not overwrite a token refreshed while the batch was in flight (compare-and-set save)', async () => {
    const db = table(seed(1));
    const fresh = encryptToken(rotated, 'act.fresh', aadOf(1));
    await reencryptAll({
      keyring: rotated,
      fetchBatch: async (cursor: number | undefined) => {
        const batch = await db.fetchBatch(cursor);
        db.byId.get(1)!.accessToken = fresh; // a concurrent refresh lands after the read
        return batch;
      },
      save: db.save,
      select,
    });
    expect(db.byId.get(1)?.accessToken).toBe(fresh);
    expect(inspectCiphertext(db.byId.get(1)?.refreshToken ?? '').keyId).toBe('new');
  });

  it('moves fields under a legacy AAD to the current one, under the primary key too, and leaves current ones alone', async () => {
    const legacyAad = (id: number) => `legacy:${id}`;
    const newKeyring = parseKeyring(`${newEntry},${oldEntry}`);
    const db = table([
      // Under the primary key, but the legacy AAD.
      { id: 1, accessToken: encryptToken(newKeyring, 'act.1', legacyAad(1)), refreshToken: null },
      // Under the old key and the legacy AAD.
      { id: 2, accessToken: encryptToken(oldKeyring, 'act.2', legacyAad(2)), refreshToken: null },
      // Already current: primary key, current AAD.
      { id: 3, accessToken: encryptToken(newKeyring, 'act.3', aadOf(3)), refreshToken: null },
      // Another row's legacy AAD: opens under neither of this row's AADs.
      { id: 4, accessToken: encryptToken(newKeyring, 'act.9', legacyAad(9)), refreshToken: null },
    ]);
    const current = db.byId.get(3)?.accessToken;
    const failures: string[] = [];
    const result = await reencryptAll({
      keyring: newKeyring,
      ...db,
      select: (row) => ({
        aad: aadOf(row.id),
        legacyAads: [legacyAad(row.id)],
        fields: { accessToken: row.accessToken },
      }),
      onError: (row, _field, error) => {
        failures.push(`${row.id}:${error.code}`);
      },
    });
    expect(result).toEqual({ scanned: 4, reencrypted: 2, failed: 1 });
    expect(failures).toEqual([`4:${CryptoErrorCode.DECRYPT_FAILED}`]);
    const newOnly = parseKeyring(newEntry);
    for (const id of [1, 2])
      expect(decryptToken(newOnly, db.byId.get(id)?.accessToken ?? '', aadOf(id))).toBe(`act.${id}`);
    expect(db.byId.get(3)?.accessToken).toBe(current);
  });
});
