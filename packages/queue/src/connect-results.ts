import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RedisClient } from './connection.js';
import { connectSessionKey, userConnectSessionsKey } from './names.js';

/**
 * What happened to one connect attempt, stored in its connect session (`result:<id>` in the session hash) so that
 * only the browser holding that session can read it, and the upstream app through `GET /v1/connect-sessions/:id`.
 * The gateway writes `pending`, `denied`, `failed` and `disconnected`; the worker writes `done` when it has stored
 * the account.
 */
export const connectResult = z.discriminatedUnion('kind', [
  /** Tokens were enqueued; the worker replaces this with `done` once the account is stored. */
  z.object({ kind: z.literal('pending') }),
  z.object({
    kind: z.literal('done'),
    outcome: z.enum(['added', 'reconnected']),
    accountId: z.string(),
    openId: z.string(),
    displayName: z.string(),
    username: z.string().nullable(),
    /** When the worker stored it (ISO): orders a session's results. */
    at: z.string().optional(),
  }),
  z.object({ kind: z.literal('denied') }),
  z.object({ kind: z.literal('failed'), reason: z.string() }),
  z.object({ kind: z.literal('disconnected'), displayName: z.string(), username: z.string().nullable() }),
]);
export type ConnectResult = z.infer<typeof connectResult>;

/**
 * How long a connect session's record (its results, open and finish times) stays readable after the session itself
 * has expired: the upstream app reads it with `GET /v1/connect-sessions/:id` when its user comes back, or later.
 */
export const CONNECT_SESSION_RETENTION_SECONDS = 25 * 3600;

/**
 * Most fields one session hash may hold (its own fields plus results and reconnect intents). A session lives at most
 * a day and every result comes from a rate-limited request, so this only matters to a misbehaving client; past it new
 * results are dropped (an existing one is still updated: `pending` → `done`).
 */
export const MAX_CONNECT_SESSION_FIELDS = 256;

// Never resurrects an expired session: a bare HSET on a key that just expired would recreate it without a TTL. A new
// field is only added while the hash is under its bound.
const RECORD_IF_SESSION_EXISTS = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1`;

/** Writes one field of an existing session hash, within its bound; false (and nothing written) otherwise. */
export async function recordConnectSessionField(
  redis: RedisClient,
  prefix: string,
  sessionRef: string,
  field: string,
  value: string,
): Promise<boolean> {
  const written = await redis.eval(
    RECORD_IF_SESSION_EXISTS,
    1,
    connectSessionKey(prefix, sessionRef),
    field,
    value,
    String(MAX_CONNECT_SESSION_FIELDS),
  );
  return written === 1;
}

/**
 * Records the result of a connect attempt in its session; false (and nothing written) when the session's record is
 * gone (past its retention) or full.
 */
export function recordConnectResult(
  redis: RedisClient,
  prefix: string,
  sessionRef: string,
  resultId: string,
  result: ConnectResult,
): Promise<boolean> {
  return recordConnectSessionField(redis, prefix, sessionRef, `result:${resultId}`, JSON.stringify(result));
}

/** Parses a stored result; null when unreadable. */
export function parseConnectResult(raw: string): ConnectResult | null {
  try {
    const parsed = connectResult.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The recorded result, or null when there is none (unknown id, expired session, or an unreadable value). */
export async function readConnectResult(
  redis: RedisClient,
  prefix: string,
  sessionRef: string,
  resultId: string,
): Promise<ConnectResult | null> {
  const raw = await redis.hget(connectSessionKey(prefix, sessionRef), `result:${resultId}`);
  return raw === null ? null : parseConnectResult(raw);
}

/** The per-user index of connect sessions is keyed by a hash of the user id: key names are not user data. */
export function userConnectSessionsIndexKey(prefix: string, userId: string): string {
  return userConnectSessionsKey(prefix, createHash('sha256').update(userId, 'utf8').digest('hex'));
}

/**
 * Adds a session to its user's index (a set of session references), so that erasing the user finds every session
 * without scanning Redis. The index lives as long as the longest-lived session in it.
 */
export async function indexUserConnectSession(
  redis: RedisClient,
  prefix: string,
  userId: string,
  sessionRef: string,
  ttlSeconds: number,
): Promise<void> {
  const key = userConnectSessionsIndexKey(prefix, userId);
  await redis.multi().sadd(key, sessionRef).expire(key, ttlSeconds, 'GT').expire(key, ttlSeconds, 'NX').exec();
}

/**
 * Deletes every connect session of a user (their hashes, with results and intents, their tombstones and the index).
 * @returns how many sessions were deleted.
 */
export async function eraseUserConnectSessions(redis: RedisClient, prefix: string, userId: string): Promise<number> {
  const indexKey = userConnectSessionsIndexKey(prefix, userId);
  const refs = await redis.smembers(indexKey);
  const keys = refs.flatMap((ref) => [connectSessionKey(prefix, ref), connectSessionTombstoneKey(prefix, ref)]);
  await redis.del(indexKey, ...keys);
  return refs.length;
}

/** Remembers for a week that a session existed, so an old link answers "expired" rather than "not found". */
export const connectSessionTombstoneKey = (prefix: string, sessionRef: string) =>
  `${prefix}:connect-session-expired:${sessionRef}`;
