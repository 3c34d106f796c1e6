import { randomBytes } from 'node:crypto';
import { hashToken } from '@ttc/crypto';
import { type ConnectResult, connectSessionKey, readConnectResult, recordConnectResult } from '@ttc/queue';
import type { Redis } from 'ioredis';

/**
 * Connect sessions live in Redis only, for their TTL. The session id is a bearer secret (it is in the link the
 * upstream app hands to its user), so Redis only ever sees its SHA-256: a Redis dump does not yield usable links.
 * That hash is also the session's public reference (cookies, job payloads, logs).
 */
const SESSION_ID = /^cs_[A-Za-z0-9_-]{43}$/;
/** How long after expiry we still remember that a session existed, to answer "expired" instead of "not found". */
const TOMBSTONE_SECONDS = 7 * 24 * 3600;

export interface ConnectSession {
  /** SHA-256 (hex) of the session id. */
  ref: string;
  userId: string;
  returnTo: string;
  createdAt: Date;
  expiresAt: Date;
  /** SHA-256 of the browser id the link was exchanged for; null until the link's first use. */
  claimedBy: string | null;
}

export type { ConnectResult };

export function isConnectSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

export function sessionRef(id: string): string {
  return hashToken(id);
}

export class ConnectSessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(ref: string): string {
    return connectSessionKey(this.prefix, ref);
  }

  private tombstoneKey(ref: string): string {
    return `${this.prefix}:connect-session-expired:${ref}`;
  }

  /** Creates a session and returns its secret id, which is never stored. */
  async create(p: { userId: string; returnTo: string; ttlSeconds: number; now: number }) {
    const id = `cs_${randomBytes(32).toString('base64url')}`;
    const ref = sessionRef(id);
    const expiresAt = new Date(p.now + p.ttlSeconds * 1000);
    await this.redis
      .multi()
      .hset(this.key(ref), {
        userId: p.userId,
        returnTo: p.returnTo,
        createdAt: new Date(p.now).toISOString(),
        expiresAt: expiresAt.toISOString(),
      })
      .expire(this.key(ref), p.ttlSeconds)
      .set(this.tombstoneKey(ref), expiresAt.toISOString(), 'EX', p.ttlSeconds + TOMBSTONE_SECONDS)
      .exec();
    return { id, ref, expiresAt };
  }

  /** The live session, or null when unknown or expired. */
  async load(ref: string, now: number): Promise<ConnectSession | null> {
    const fields = await this.redis.hmget(this.key(ref), 'userId', 'returnTo', 'createdAt', 'expiresAt', 'claimedBy');
    const [userId, returnTo, createdAt, expiresAt, claimedBy] = fields;
    if (!userId || !returnTo || !createdAt || !expiresAt) return null;
    const session: ConnectSession = {
      ref,
      userId,
      returnTo,
      createdAt: new Date(createdAt),
      expiresAt: new Date(expiresAt),
      claimedBy: claimedBy ?? null,
    };
    // Redis expiry is the real limit; this also honours the stored time when a clock is injected (tests).
    if (session.expiresAt.getTime() <= now) return null;
    return session;
  }

  /** Whether a session with this reference existed and has expired (vs. never existed). */
  async hasExpired(ref: string): Promise<boolean> {
    return (await this.redis.exists(this.tombstoneKey(ref))) === 1;
  }

  /**
   * Binds the session to one browser, once. Atomic, and never resurrects an expired key (a bare HSETNX on a key
   * that just expired would recreate it without a TTL).
   * @returns `true` when this call claimed it.
   */
  async claim(ref: string, browserHash: string): Promise<boolean> {
    const result = await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end return redis.call('HSETNX', KEYS[1], 'claimedBy', ARGV[1])",
      1,
      this.key(ref),
      browserHash,
    );
    return result === 1;
  }

  /** Records the result of a connect attempt under the session (dropped silently if the session has expired). */
  recordResult(ref: string, resultId: string, result: ConnectResult): Promise<boolean> {
    return recordConnectResult(this.redis, this.prefix, ref, resultId, result);
  }

  readResult(ref: string, resultId: string): Promise<ConnectResult | null> {
    return readConnectResult(this.redis, this.prefix, ref, resultId);
  }
}
