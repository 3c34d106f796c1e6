import { randomBytes } from 'node:crypto';
import { hashToken, safeEqual } from '@ttc/crypto';
import type { RedisClient } from '@ttc/queue';
import {
  CONNECT_SESSION_RETENTION_SECONDS,
  type ConnectResult,
  connectSessionKey,
  connectSessionTombstoneKey,
  indexUserConnectSession,
  parseConnectResult,
  readConnectResult,
  recordConnectResult,
  recordConnectSessionField,
} from '@ttc/queue';

/**
 * Connect sessions live in Redis only. A session has a public id (`cs_` + 22 characters: what the upstream app gets
 * and reads results with, what cookies, job payloads and logs name) and a link secret (32 random bytes): the one-time
 * link is `/connect/<id>.<secret>`. Redis holds only the secret's SHA-256, so a Redis dump yields no usable link, and
 * the public id, which is handed back on "Done", gives nobody the link.
 *
 * The session hash (`<prefix>:connect-session:<id>`) outlives the session by {@link CONNECT_SESSION_RETENTION_SECONDS}
 * so that its results stay readable; the session itself ends at its stored `expiresAt` (checked on every load).
 */
const PUBLIC_ID = /^cs_[A-Za-z0-9_-]{22}$/;
const LINK_TOKEN = /^(cs_[A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
/** How long after expiry we still remember that a session existed, to answer "expired" instead of "not found". */
const TOMBSTONE_SECONDS = 7 * 24 * 3600;
const CLIENT_TOKEN = /^ct_[A-Za-z0-9_-]{43}$/;
/**
 * How long a session's client token outlives the session: long enough for a browser SDK whose popup lost its opener
 * to read the result after "Done" at the last minute, short enough that a leaked token soon opens nothing.
 */
export const CLIENT_TOKEN_GRACE_SECONDS = 600;

/** How the hosted page runs: a full-page redirect (the default) or a popup opened by the upstream app's page. */
export type ConnectDisplay = 'page' | 'popup';

export interface ConnectSession {
  /** The public id (`cs_…`), the session's reference everywhere. */
  ref: string;
  userId: string;
  returnTo: string;
  createdAt: Date;
  expiresAt: Date;
  /** SHA-256 of the browser id the link was exchanged for; null until the link's first use. */
  claimedBy: string | null;
  /** The account the upstream app asked this session to re-authorize, if any. */
  reconnectAccountId: string | null;
  /** The name of the gateway API key that created the session (null: the development shortcut). */
  apiKey: string | null;
  /** Popup mode was asked for when the session was created (the link can also ask, with `?display=popup`). */
  display: ConnectDisplay;
}

/** What the upstream app reads about a session: no secret, readable until the record's retention ends. */
export interface ConnectSessionRecord {
  id: string;
  userId: string;
  returnTo: string;
  createdAt: Date;
  expiresAt: Date;
  openedAt: Date | null;
  finishedAt: Date | null;
  /** Connections the worker stored, oldest first. */
  results: Extract<ConnectResult, { kind: 'done' }>[];
}

export type { ConnectResult };

export function isConnectSessionPublicId(value: string): boolean {
  return PUBLIC_ID.test(value);
}

/** Splits a one-time link token into the session's public id and its secret; null when it cannot be one. */
export function parseLinkToken(value: string): { ref: string; secret: string } | null {
  const match = LINK_TOKEN.exec(value);
  return match ? { ref: match[1] as string, secret: match[2] as string } : null;
}

export class ConnectSessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(ref: string): string {
    return connectSessionKey(this.prefix, ref);
  }

  /** Creates a session; returns its public id and the link token (id + secret), which is never stored. */
  async create(p: {
    userId: string;
    returnTo: string;
    ttlSeconds: number;
    now: number;
    reconnectAccountId?: string | undefined;
    apiKey?: string | null | undefined;
    display?: ConnectDisplay | undefined;
  }) {
    const ref = `cs_${randomBytes(16).toString('base64url')}`;
    const secret = randomBytes(32).toString('base64url');
    const clientToken = `ct_${randomBytes(32).toString('base64url')}`;
    const clientTokenExpiresAt = new Date(p.now + (p.ttlSeconds + CLIENT_TOKEN_GRACE_SECONDS) * 1000);
    const expiresAt = new Date(p.now + p.ttlSeconds * 1000);
    const keepSeconds = p.ttlSeconds + CONNECT_SESSION_RETENTION_SECONDS;
    await this.redis
      .multi()
      .hset(this.key(ref), {
        userId: p.userId,
        returnTo: p.returnTo,
        createdAt: new Date(p.now).toISOString(),
        expiresAt: expiresAt.toISOString(),
        secretHash: hashToken(secret),
        clientTokenHash: hashToken(clientToken),
        clientTokenExpiresAt: clientTokenExpiresAt.toISOString(),
        ...(p.reconnectAccountId ? { reconnectAccountId: p.reconnectAccountId } : {}),
        ...(p.apiKey ? { apiKey: p.apiKey } : {}),
        ...(p.display === 'popup' ? { display: 'popup' } : {}),
      })
      .expire(this.key(ref), keepSeconds)
      .set(
        connectSessionTombstoneKey(this.prefix, ref),
        expiresAt.toISOString(),
        'EX',
        p.ttlSeconds + TOMBSTONE_SECONDS,
      )
      .exec();
    await indexUserConnectSession(this.redis, this.prefix, p.userId, ref, p.ttlSeconds + TOMBSTONE_SECONDS);
    return { ref, linkToken: `${ref}.${secret}`, expiresAt, clientToken, clientTokenExpiresAt };
  }

  /** The live session, or null when unknown or expired. */
  async load(ref: string, now: number): Promise<ConnectSession | null> {
    const fields = await this.redis.hmget(
      this.key(ref),
      'userId',
      'returnTo',
      'createdAt',
      'expiresAt',
      'claimedBy',
      'reconnectAccountId',
      'apiKey',
      'display',
    );
    const [userId, returnTo, createdAt, expiresAt, claimedBy, reconnectAccountId, apiKey, display] = fields;
    if (!userId || !returnTo || !createdAt || !expiresAt) return null;
    const session: ConnectSession = {
      ref,
      userId,
      returnTo,
      createdAt: new Date(createdAt),
      expiresAt: new Date(expiresAt),
      claimedBy: claimedBy ?? null,
      reconnectAccountId: reconnectAccountId ?? null,
      apiKey: apiKey ?? null,
      display: display === 'popup' ? 'popup' : 'page',
    };
    // The hash outlives the session (its results stay readable): the stored expiry is the session's end.
    if (session.expiresAt.getTime() <= now) return null;
    return session;
  }

  /**
   * The live session a link token opens; `expired` for a session that is over (or whose record is gone but which
   * existed), `not_found` for an unknown one or a wrong secret.
   */
  async loadByLink(
    link: { ref: string; secret: string },
    now: number,
  ): Promise<ConnectSession | 'expired' | 'not_found'> {
    const secretHash = await this.redis.hget(this.key(link.ref), 'secretHash');
    if (secretHash === null) return (await this.hasExpired(link.ref)) ? 'expired' : 'not_found';
    if (!safeEqual(secretHash, hashToken(link.secret))) return 'not_found';
    return (await this.load(link.ref, now)) ?? 'expired';
  }

  /** Whether a session with this reference existed and has expired (vs. never existed). */
  async hasExpired(ref: string): Promise<boolean> {
    return (await this.redis.exists(connectSessionTombstoneKey(this.prefix, ref))) === 1;
  }

  /**
   * Binds the session to one browser, once, and records when (`openedAt`). Atomic, and never resurrects an expired
   * key (a bare HSETNX on a key that just expired would recreate it without a TTL).
   * @returns `true` when this call claimed it.
   */
  async claim(ref: string, browserHash: string, now: number): Promise<boolean> {
    const result = await this.redis.eval(
      `if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[1], 'claimedBy', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'openedAt', ARGV[2]) return 1`,
      1,
      this.key(ref),
      browserHash,
      new Date(now).toISOString(),
    );
    return result === 1;
  }

  /** Records when the user clicked "Done" (the first time). */
  async finish(ref: string, now: number): Promise<void> {
    await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSETNX', KEYS[1], 'finishedAt', ARGV[1]) end return 1",
      1,
      this.key(ref),
      new Date(now).toISOString(),
    );
  }

  /** Records the result of a connect attempt under the session (dropped silently if the session is gone or full). */
  recordResult(ref: string, resultId: string, result: ConnectResult): Promise<boolean> {
    return recordConnectResult(this.redis, this.prefix, ref, resultId, result);
  }

  readResult(ref: string, resultId: string): Promise<ConnectResult | null> {
    return readConnectResult(this.redis, this.prefix, ref, resultId);
  }

  /**
   * Remembers which account one authorization (by the SHA-256 of its state nonce) set out to reconnect, so that the
   * callback can tell when TikTok returned another account.
   */
  recordReconnectIntent(ref: string, nonceHash: string, accountId: string): Promise<boolean> {
    return recordConnectSessionField(this.redis, this.prefix, ref, `intent:${nonceHash}`, accountId);
  }

  /** The account an authorization set out to reconnect, or null (a plain "Connect"). */
  readReconnectIntent(ref: string, nonceHash: string): Promise<string | null> {
    return this.redis.hget(this.key(ref), `intent:${nonceHash}`);
  }

  /** Carries an authorization's intent over to the connection it produced, where the page reads it. */
  recordConnectionIntent(ref: string, connectionId: string, accountId: string): Promise<boolean> {
    return recordConnectSessionField(this.redis, this.prefix, ref, `reconnect:${connectionId}`, accountId);
  }

  /** The account a connection set out to reconnect, or null. */
  readConnectionIntent(ref: string, connectionId: string): Promise<string | null> {
    return this.redis.hget(this.key(ref), `reconnect:${connectionId}`);
  }

  /**
   * The record of one session for the holder of its client token (the browser SDK), or why not: `not_found` for an
   * unknown session or one past its retention, `unauthorized` for a wrong or expired token. Compared in constant time.
   * The caller answers with the results only.
   */
  async readResultWithClientToken(
    ref: string,
    clientToken: string,
    now: number,
  ): Promise<ConnectSessionRecord | 'not_found' | 'unauthorized'> {
    const [tokenHash, tokenExpiresAt] = await this.redis.hmget(
      this.key(ref),
      'clientTokenHash',
      'clientTokenExpiresAt',
    );
    const record = await this.readRecord(ref, now);
    if (record === null) return 'not_found';
    if (!tokenHash || !tokenExpiresAt || !CLIENT_TOKEN.test(clientToken)) return 'unauthorized';
    if (!safeEqual(tokenHash, hashToken(clientToken)) || Date.parse(tokenExpiresAt) <= now) return 'unauthorized';
    return record;
  }

  /**
   * The session's record for its upstream app, or null when unknown or past its retention. Judged by the stored
   * expiry too, so an injected clock (tests) sees the same limits as Redis.
   */
  async readRecord(ref: string, now: number): Promise<ConnectSessionRecord | null> {
    const fields = await this.redis.hgetall(this.key(ref));
    const { userId, returnTo, createdAt, expiresAt } = fields;
    if (!userId || !returnTo || !createdAt || !expiresAt) return null;
    if (Date.parse(expiresAt) + CONNECT_SESSION_RETENTION_SECONDS * 1000 <= now) return null;
    const results: ConnectSessionRecord['results'] = [];
    for (const [field, raw] of Object.entries(fields)) {
      if (!field.startsWith('result:')) continue;
      const result = parseConnectResult(raw);
      if (result?.kind === 'done') results.push(result);
    }
    results.sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
    return {
      id: ref,
      userId,
      returnTo,
      createdAt: new Date(createdAt),
      expiresAt: new Date(expiresAt),
      openedAt: fields.openedAt ? new Date(fields.openedAt) : null,
      finishedAt: fields.finishedAt ? new Date(fields.finishedAt) : null,
      results,
    };
  }
}
