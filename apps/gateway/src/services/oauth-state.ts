import { createHmac, hkdfSync } from 'node:crypto';
import { safeEqual } from '@ttc/crypto';

/**
 * The OAuth `state` is self-authenticating and bound to the browser, so that the authorize redirect stores
 * nothing and sets no cookie:
 *
 *     state    = <nonce>.<exp>.<mac>
 *     nonce    = 32 random bytes, base64url (43 characters)
 *     exp      = expiry, seconds since the epoch, base 36
 *     mac      = base64url(HMAC-SHA256(k_state, "<nonce>.<exp>.<session ref>.<browser id>")), first 22 characters
 *     verifier = base64url(HMAC-SHA256(k_pkce, nonce))   (43 characters: a valid PKCE verifier)
 *
 * Session ref and browser id come from the sealed connect cookie (`Path=/`, so the callback receives it too): a
 * state only verifies in the browser, and for the connect session, that started it. The PKCE verifier is never
 * stored nor sent anywhere but to TikTok's token endpoint: the callback recomputes it from the nonce. Both keys are
 * derived from COOKIE_SECRET with HKDF under their own labels, so neither can stand in for the other nor for the
 * cookie or CSRF keys. With several COOKIE_SECRETs (rotation) states are issued under the first and verified under
 * any; the verifier comes from the secret that verified. Single use is enforced at the callback, in Redis.
 */

/** How long the user has on TikTok's pages before the callback is refused as expired. */
export const OAUTH_STATE_TTL_SECONDS = 600;

/** 22 base64url characters: 132 bits of the HMAC. */
const MAC_LENGTH = 22;
const STATE_FORMAT = /^([A-Za-z0-9_-]{43})\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/;

/** What the state is bound to: the connect session held by this browser (from its connect cookie). */
export interface StateBinding {
  /** Session reference. */
  sr: string;
  /** Browser id. */
  bid: string;
}

/** A state split into its parts; nothing in it is trusted before {@link OAuthStates.authentic}. */
export interface ParsedState {
  nonce: string;
  /** The expiry exactly as written in the state (the MAC covers this text, not the number). */
  expText: string;
  /** Expiry in seconds since the epoch. */
  exp: number;
  mac: string;
}

/** The two keys of one COOKIE_SECRET. */
interface StateKeys {
  state: Buffer;
  pkce: Buffer;
}

export class OAuthStates {
  /** One pair per COOKIE_SECRET, the first secret's first: states are issued under it, verified under any. */
  private readonly keys: StateKeys[];

  constructor(cookieSecrets: string | readonly string[]) {
    const secrets = typeof cookieSecrets === 'string' ? [cookieSecrets] : cookieSecrets;
    if (secrets.length === 0) throw new Error('OAuthStates needs at least one COOKIE_SECRET');
    this.keys = secrets.map((secret) => ({
      state: Buffer.from(hkdfSync('sha256', secret, '', 'ttc-gateway:oauth-state-mac:v1', 32)),
      pkce: Buffer.from(hkdfSync('sha256', secret, '', 'ttc-gateway:pkce-verifier:v1', 32)),
    }));
  }

  /** The state for `nonce` (43 base64url characters), bound to `binding`, valid until `expSeconds`. */
  issue(nonce: string, expSeconds: number, binding: StateBinding): string {
    const exp = expSeconds.toString(36);
    return `${nonce}.${exp}.${this.mac(this.keys[0] as StateKeys, nonce, exp, binding)}`;
  }

  /** The PKCE verifier belonging to a nonce issued now (under the first secret). */
  verifier(nonce: string): string {
    return this.verifierWith(this.keys[0] as StateKeys, nonce);
  }

  /** Splits a state of the right shape; `null` for anything else. */
  parse(state: string): ParsedState | null {
    const m = STATE_FORMAT.exec(state);
    if (m === null) return null;
    const [, nonce = '', expText = '', mac = ''] = m;
    return { nonce, expText, exp: Number.parseInt(expText, 36), mac };
  }

  /** True when the state was issued by this gateway for `binding` (constant-time comparison). */
  authentic(state: ParsedState, binding: StateBinding): boolean {
    return this.verify(state, binding) !== null;
  }

  /**
   * The PKCE verifier of a state issued by this gateway for `binding`, under whichever COOKIE_SECRET issued it (a
   * state issued just before a rotation still completes); null when no secret's MAC matches. Every key is tried.
   */
  verify(state: ParsedState, binding: StateBinding): string | null {
    let issuer: StateKeys | null = null;
    for (const keys of this.keys) {
      if (safeEqual(state.mac, this.mac(keys, state.nonce, state.expText, binding))) issuer = keys;
    }
    return issuer === null ? null : this.verifierWith(issuer, state.nonce);
  }

  private verifierWith(keys: StateKeys, nonce: string): string {
    return createHmac('sha256', keys.pkce).update(nonce).digest('base64url');
  }

  private mac(keys: StateKeys, nonce: string, exp: string, binding: StateBinding): string {
    return createHmac('sha256', keys.state)
      .update(`${nonce}.${exp}.${binding.sr}.${binding.bid}`)
      .digest('base64url')
      .slice(0, MAC_LENGTH);
  }
}
