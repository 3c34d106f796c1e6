import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { isCryptoError, type Keyring, keyringFromSecrets, safeEqual, sealJson, unsealJson } from '@ttc/crypto';
import { z } from 'zod';

/**
 * The gateway's one browser cookie, the connect cookie: which connect session this browser holds, and a random
 * browser id the session was bound to when its one-time link was opened. Sealed (AES-256-GCM, authenticated) with a
 * key derived from COOKIE_SECRET (the first secret seals, every listed one opens), HttpOnly, SameSite=Lax, `Path=/`.
 *
 * `Path=/` (not `/connect`) because the OAuth callback needs it too: the OAuth state is bound to this cookie's
 * session and browser id (services/oauth-state.ts), which is what makes a state unusable in any other browser.
 * Lax (not Strict) because TikTok's redirect back to the callback is a cross-site top-level GET, which Lax allows.
 */
const CONNECT_AAD = 'ttc-gateway:connect-cookie:v1';

export const connectCookiePayload = z.object({
  /** Session reference (the session's public id). */
  sr: z.string().regex(/^cs_[A-Za-z0-9_-]{22}$/),
  /** Browser id (random, 32 bytes base64url). */
  bid: z.string().min(20).max(100),
  /** Upstream user id. */
  uid: z.string().min(1).max(255),
  /** Expiry (ms since the epoch), also sealed in the envelope; kept here so a memoised cookie can be re-checked. */
  exp: z.number().int().positive(),
  /** Present when the page runs in a popup opened by the upstream app (`?display=popup`, or the session's option). */
  dm: z.literal('popup').optional(),
  /**
   * The session's `returnTo`, so that the page can still link back to the app when the session itself is gone
   * (Redis lost it mid-connect). Optional: cookies issued before it was added stay valid.
   */
  rt: z.string().max(2048).optional(),
});
export type ConnectCookie = z.infer<typeof connectCookiePayload>;

export type UnsealFailure = 'missing' | 'invalid' | 'expired';

export interface CookieNames {
  connect: string;
}

/** How many verified connect cookies are remembered (a few hundred bytes each). */
const VERIFIED_CACHE_SIZE = 1000;

export class BrowserCookies {
  readonly names: CookieNames;
  /**
   * Connect cookies already verified, by their exact sealed text: a browser sends the same cookie for the page,
   * every "Add another account" click and every disconnect, and the same bytes always open to the same value, so
   * the AES-GCM check is done once per cookie. Bounded (oldest first out); expiry is re-checked on every hit.
   */
  private readonly verified = new Map<string, ConnectCookie>();
  readonly secure: boolean;
  private readonly keyring: Keyring;
  /** One per COOKIE_SECRET, the first's first: tokens are made with it, checked against all (rotation). */
  private readonly csrfKeys: Buffer[];

  /** `cookieSecrets`: COOKIE_SECRET, the sealing secret first; cookies and forms made under any of them still work. */
  constructor(cookieSecrets: string | readonly string[], opts: { secure: boolean }) {
    const secrets = typeof cookieSecrets === 'string' ? [cookieSecrets] : cookieSecrets;
    this.keyring = keyringFromSecrets(secrets, 'gateway-cookies');
    this.csrfKeys = secrets.map((secret) => Buffer.from(hkdfSync('sha256', secret, '', 'ttc-gateway:csrf', 32)));
    this.secure = opts.secure;
    // The __Secure- prefix makes browsers refuse the cookie unless it came over HTTPS with Secure.
    this.names = { connect: opts.secure ? '__Secure-ttc_connect' : 'ttc_connect' };
  }

  newBrowserId(): string {
    return randomBytes(32).toString('base64url');
  }

  sealConnect(value: ConnectCookie, ttlSeconds: number, now: number): string {
    return sealJson(this.keyring, value, CONNECT_AAD, { ttlSeconds, now });
  }

  openConnect(raw: string | undefined, now: number): ConnectCookie | UnsealFailure {
    if (raw !== undefined) {
      const known = this.verified.get(raw);
      if (known !== undefined) return known.exp > now ? known : 'expired';
    }
    const opened = this.open(raw, CONNECT_AAD, connectCookiePayload, now);
    if (typeof opened === 'object' && raw !== undefined) {
      if (this.verified.size >= VERIFIED_CACHE_SIZE) {
        const oldest = this.verified.keys().next().value;
        if (oldest !== undefined) this.verified.delete(oldest);
      }
      this.verified.set(raw, opened);
    }
    return opened;
  }

  /** CSRF token for the forms of one session in one browser: an HMAC, so nothing has to be stored. */
  csrfToken(cookie: ConnectCookie, key = this.csrfKeys[0] as Buffer): string {
    return createHmac('sha256', key).update(`${cookie.sr}:${cookie.bid}`).digest('base64url');
  }

  /** Against every secret's key, with no early exit: a page rendered before a rotation still posts. */
  checkCsrf(cookie: ConnectCookie, token: unknown): boolean {
    if (typeof token !== 'string' || token.length >= 200) return false;
    let ok = false;
    for (const key of this.csrfKeys) if (safeEqual(token, this.csrfToken(cookie, key))) ok = true;
    return ok;
  }

  private open<T>(raw: string | undefined, aad: string, schema: z.ZodType<T>, now: number): T | UnsealFailure {
    if (raw === undefined || raw === '') return 'missing';
    if (raw.length > 4096) return 'invalid';
    let value: unknown;
    try {
      value = unsealJson(this.keyring, raw, aad, { now });
    } catch (error) {
      if (isCryptoError(error) && error.code === 'CRYPTO_EXPIRED') return 'expired';
      return 'invalid';
    }
    const parsed = schema.safeParse(value);
    return parsed.success ? parsed.data : 'invalid';
  }
}
