import { randomBytes } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for any RFC 9562 textual UUID (what the `uuid` columns accept). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * A UUIDv7 (RFC 9562): 48-bit millisecond timestamp, then random bits. Raw inserts bypass Prisma's `@default(uuid(7))`
 * and Postgres 15 has no `uuidv7()`, so ids are minted here with the same time-ordered layout.
 */
export function uuidv7(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
