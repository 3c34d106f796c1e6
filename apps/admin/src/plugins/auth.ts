import { randomBytes } from 'node:crypto';
import { hashToken, type Keyring, keyringFromSecrets, safeEqual, sealJson, unsealJson } from '@ttc/crypto';
import type { RedisClient } from '@ttc/queue';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { z } from 'zod';
import { type AdminErrorCode, errorBody } from '../errors.js';

export const SESSION_COOKIE = 'ttc_admin_session';
export const CSRF_HEADER = 'x-admin-csrf';
const SESSION_AAD = 'ttc-admin-console-session';

/** Who made the request. Holds a fingerprint of the admin token, never the token. */
export interface AdminPrincipal {
  method: 'bearer' | 'cookie';
  /** First 12 hex digits of the token's SHA-256: enough to tell tokens apart in logs. */
  tokenId: string;
  /** The session's CSRF token (cookie sessions only). */
  csrf?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    admin: AdminPrincipal | null;
  }
}

// `e`: when the session expires (ms since the epoch), so a revocation is kept exactly as long as it matters.
const sessionShape = z.object({
  t: z.string().regex(/^[0-9a-f]{64}$/),
  c: z.string().min(16).max(64),
  e: z.number().int().optional(),
});

export interface AdminAuthOptions {
  /** ADMIN_API_TOKENS. */
  tokens: readonly string[];
  /** COOKIE_SECRET: seals console sessions; a list (rotation) seals with the first and opens with any. */
  cookieSecret: string | readonly string[];
  /** Mark the cookie Secure (production, or whenever the admin is served over https). */
  secureCookie: boolean;
  sessionTtlSeconds?: number;
  /**
   * Where signed-out sessions are remembered until they would have expired: `<keyPrefix>:admin:signed-out:<hash of
   * the session's CSRF token>`, so a cookie copied before logout is refused after it.
   */
  revocations: { redis: RedisClient; keyPrefix: string };
}

/**
 * Admin authentication: a bearer admin token, or a console session cookie obtained by pasting one into the login
 * form. The cookie is sealed (AES-GCM under a key derived from COOKIE_SECRET) and holds the token's hash, not the
 * token, so removing a token from ADMIN_API_TOKENS also ends the sessions opened with it. Logging out records the
 * session in Redis until its expiry, and a recorded session is refused.
 */
export class AdminAuthenticator {
  readonly sessionTtlSeconds: number;
  private readonly keyring: Keyring;
  private readonly tokenHashes: string[];

  constructor(private readonly options: AdminAuthOptions) {
    if (options.tokens.length === 0) throw new Error('ADMIN_AUTH_NO_TOKENS: at least one admin token is required');
    this.keyring = keyringFromSecrets(options.cookieSecret, 'admin-console-session');
    this.tokenHashes = options.tokens.map((t) => hashToken(t));
    this.sessionTtlSeconds = options.sessionTtlSeconds ?? 8 * 3600;
  }

  /** The hash of `token` if it is one of the admin tokens. Compares with every token in constant time. */
  verifyToken(token: string): string | null {
    if (token.length === 0 || token.length > 512) return null;
    const hash = hashToken(token);
    let match: string | null = null;
    for (const known of this.tokenHashes) if (safeEqual(hash, known)) match = known;
    return match;
  }

  /** A new console session for a verified token hash: the cookie value and its CSRF token. */
  openSession(tokenHash: string): { cookie: string; csrf: string } {
    const csrf = randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + this.sessionTtlSeconds * 1000;
    const cookie = sealJson(this.keyring, { t: tokenHash, c: csrf, e: expiresAt }, SESSION_AAD, {
      ttlSeconds: this.sessionTtlSeconds,
    });
    return { cookie, csrf };
  }

  /** The session in a cookie value, or null when it is forged, expired, signed out or its token was retired. */
  async readSession(value: string): Promise<{ tokenHash: string; csrf: string; expiresAt: number } | null> {
    let session: z.infer<typeof sessionShape>;
    try {
      session = sessionShape.parse(unsealJson(this.keyring, value, SESSION_AAD));
    } catch {
      return null;
    }
    if (!this.tokenHashes.some((h) => safeEqual(h, session.t))) return null;
    if ((await this.options.revocations.redis.exists(this.revocationKey(session.c))) === 1) return null;
    return {
      tokenHash: session.t,
      csrf: session.c,
      expiresAt: session.e ?? Date.now() + this.sessionTtlSeconds * 1000,
    };
  }

  /** Signs a console session out for good: its cookie is refused from now on, wherever a copy of it is. */
  async endSession(value: string): Promise<void> {
    const session = await this.readSession(value);
    if (!session) return;
    const ttlMs = Math.max(1, session.expiresAt - Date.now());
    await this.options.revocations.redis.set(this.revocationKey(session.csrf), '1', 'PX', ttlMs);
  }

  private revocationKey(csrf: string): string {
    return `${this.options.revocations.keyPrefix}:admin:signed-out:${hashToken(csrf)}`;
  }

  /** Identifies the caller from the Authorization header or the session cookie; null when neither is valid. */
  async authenticate(request: FastifyRequest): Promise<AdminPrincipal | null | 'bad-bearer'> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const hash = match?.[1] ? this.verifyToken(match[1]) : null;
      // A wrong bearer token is refused even with a valid cookie: the caller meant to use the token.
      return hash ? { method: 'bearer', tokenId: hash.slice(0, 12) } : 'bad-bearer';
    }
    const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (!cookie) return null;
    const session = await this.readSession(cookie);
    return session ? { method: 'cookie', tokenId: session.tokenHash.slice(0, 12), csrf: session.csrf } : null;
  }

  sessionCookie(value: string): string {
    return serializeCookie(SESSION_COOKIE, value, this.sessionTtlSeconds, this.options.secureCookie);
  }

  clearedCookie(): string {
    return serializeCookie(SESSION_COOKIE, '', 0, this.options.secureCookie);
  }
}

function serializeCookie(name: string, value: string, maxAge: number, secure: boolean): string {
  // Path=/ because the session covers /console, /graphql and /queues. SameSite=Strict: never sent cross-site.
  return `${name}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim() || null;
  }
  return null;
}

/** True when the browser says the request comes from this origin (or gives no hint, as non-browser clients do). */
export function isSameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export interface RequireAdminOptions {
  /** How a cookie-authenticated request proves it is not forged: the console's CSRF header, or same-origin. */
  csrf: 'header' | 'same-origin-unsafe-methods';
  /** What an unauthenticated caller gets: a JSON error, a GraphQL error, or a redirect to the login page. */
  onMissing: 'json' | 'graphql' | 'login';
}

function refuse(reply: FastifyReply, shape: RequireAdminOptions['onMissing'], code: AdminErrorCode, message: string) {
  const status = code === 'UNAUTHENTICATED' ? 401 : 403;
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="ttc-admin"');
  reply.header('cache-control', 'no-store');
  if (shape === 'graphql') return reply.code(status).send({ errors: [{ message, extensions: { code } }] });
  return reply.code(status).send(errorBody(code, message));
}

/** An onRequest hook that lets only admins through. */
export function requireAdmin(auth: AdminAuthenticator, options: RequireAdminOptions): onRequestHookHandler {
  return async (request, reply) => {
    const principal = await auth.authenticate(request);
    if (principal === null || principal === 'bad-bearer') {
      if (options.onMissing === 'login' && principal === null && request.method === 'GET') {
        const next = encodeURIComponent(request.url.split('?')[0] ?? '/console');
        return reply.redirect(`/console/login?next=${next}`, 303);
      }
      return refuse(reply, options.onMissing, 'UNAUTHENTICATED', 'A valid admin token is required');
    }
    if (principal.method === 'cookie') {
      const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(request.method);
      if (options.csrf === 'header') {
        const sent = request.headers[CSRF_HEADER];
        if (typeof sent !== 'string' || !principal.csrf || !safeEqual(sent, principal.csrf)) {
          return refuse(
            reply,
            options.onMissing,
            'CSRF_REJECTED',
            `Cookie sessions must send the ${CSRF_HEADER} header`,
          );
        }
      } else if (unsafe && !isSameOrigin(request)) {
        return refuse(reply, options.onMissing, 'CSRF_REJECTED', 'Cross-site request refused');
      }
    }
    request.admin = principal;
  };
}
