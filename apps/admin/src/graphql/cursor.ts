import { isUuid } from '@ttc/accounts';
import { adminError } from '../errors.js';

const EVENT_ID = /^[0-9]{1,19}$/;

/** A position in a list ordered by `(createdAt desc, id desc)`: unique, so pages never skip or repeat rows. */
export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

/** `a`: accounts, `e`: account events, `w`: webhook deliveries. */
export type CursorKind = 'a' | 'e' | 'w';

/**
 * Cursors are opaque to clients (base64url) but not secret: they only hold the sort key of a row. The kind prefix
 * stops an event cursor from being used to page accounts and vice versa.
 */
export function encodeCursor(kind: CursorKind, position: KeysetPosition): string {
  return Buffer.from(`${kind}|${position.createdAt.getTime()}|${position.id}`, 'utf8').toString('base64url');
}

/** Decodes a cursor from `after`, or throws BAD_USER_INPUT: a forged or truncated cursor is the client's mistake. */
export function decodeCursor(kind: CursorKind, cursor: string): KeysetPosition {
  const invalid = () => adminError('BAD_USER_INPUT', 'Invalid cursor', { argument: 'after' });
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const [k, ms, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (k !== kind || ms === undefined || id === undefined || rest.length > 0 || !/^[0-9]{1,15}$/.test(ms)) {
    throw invalid();
  }
  if (!(kind === 'e' ? EVENT_ID.test(id) : isUuid(id))) throw invalid();
  return { createdAt: new Date(Number(ms)), id };
}

/** Validates a page size argument: a client asking for 0 or 10 000 rows has a bug worth telling it about. */
export function pageSize(value: number | null | undefined, fallback: number, max: number, argument = 'first'): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw adminError('BAD_USER_INPUT', `${argument} must be between 1 and ${max}`, { argument });
  }
  return n;
}

/** A forward page of a keyset connection from `limit + 1` rows: the extra row only tells whether there is a next page. */
export function forwardPage<T extends KeysetPosition>(kind: CursorKind, rows: T[], limit: number, hadAfter: boolean) {
  const edges = rows.slice(0, limit).map((node) => ({ cursor: encodeCursor(kind, node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: hadAfter,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
