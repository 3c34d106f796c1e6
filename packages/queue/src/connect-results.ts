import type { Redis } from 'ioredis';
import { z } from 'zod';
import { connectSessionKey } from './names.js';

/**
 * What happened to one connect attempt, stored in its connect session (`result:<id>` in the session hash) so that
 * only the browser holding that session can read it. The gateway writes `pending`, `denied`, `failed` and
 * `disconnected`; the worker writes `done` when it has stored the account.
 */
export const connectResult = z.discriminatedUnion('kind', [
  /** Tokens were enqueued; the worker replaces this with `done` once the account is stored. */
  z.object({ kind: z.literal('pending') }),
  z.object({
    kind: z.literal('done'),
    outcome: z.enum(['added', 'reconnected']),
    displayName: z.string(),
    username: z.string().nullable(),
  }),
  z.object({ kind: z.literal('denied') }),
  z.object({ kind: z.literal('failed'), reason: z.string() }),
  z.object({ kind: z.literal('disconnected'), displayName: z.string(), username: z.string().nullable() }),
]);
export type ConnectResult = z.infer<typeof connectResult>;

// Never resurrects an expired session: a bare HSET on a key that just expired would recreate it without a TTL.
const RECORD_IF_SESSION_EXISTS =
  "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1";

/**
 * Records the result of a connect attempt in its session; false (and nothing written) when the session has expired.
 */
export async function recordConnectResult(
  redis: Redis,
  prefix: string,
  sessionRef: string,
  resultId: string,
  result: ConnectResult,
): Promise<boolean> {
  const written = await redis.eval(
    RECORD_IF_SESSION_EXISTS,
    1,
    connectSessionKey(prefix, sessionRef),
    `result:${resultId}`,
    JSON.stringify(result),
  );
  return written === 1;
}

/** The recorded result, or null when there is none (unknown id, expired session, or an unreadable value). */
export async function readConnectResult(
  redis: Redis,
  prefix: string,
  sessionRef: string,
  resultId: string,
): Promise<ConnectResult | null> {
  const raw = await redis.hget(connectSessionKey(prefix, sessionRef), `result:${resultId}`);
  if (raw === null) return null;
  try {
    const parsed = connectResult.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
