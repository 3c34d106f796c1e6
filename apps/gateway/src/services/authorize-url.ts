import { randomFillSync } from 'node:crypto';
import { pkceChallenge, type TikTokClient } from '@ttc/tiktok';
import type { OAuthStates, StateBinding } from './oauth-state.js';

/**
 * Random bytes for the authorize redirect, drawn from a pre-filled CSPRNG buffer: one `randomFillSync` per ~100
 * redirects instead of two per redirect. Every byte is handed out once and the buffer is refilled in place.
 */
class RandomPool {
  private readonly buffer: Buffer;
  private offset: number;

  constructor(size = 8192) {
    this.buffer = Buffer.allocUnsafe(size);
    this.offset = size;
  }

  /** `n` fresh random bytes as base64url text (no intermediate buffer). */
  base64url(n: number): string {
    if (this.offset + n > this.buffer.length) {
      randomFillSync(this.buffer);
      this.offset = 0;
    }
    const out = this.buffer.toString('base64url', this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
}

export interface AuthorizeUrlFactoryOptions {
  redirectUri: string;
  scopes: readonly string[];
  extras: { disableAutoAuth: boolean; promptSelectAccount: boolean; forceAuthentication: boolean };
}

// Placeholders with the exact shape of the real values, so the client validates and encodes them like real ones.
const STATE_PLACEHOLDER = `${'STATExPLACEHOLDERx'.repeat(3).slice(0, 43)}.zzzzzz.${'MACxPLACEHOLDERx'.repeat(2).slice(0, 22)}`;
const CHALLENGE_PLACEHOLDER = 'c0ffee'.repeat(10).concat('c0ff');

/**
 * Builds authorize redirects for the start route. The TikTok client builds the URL once, with placeholders for
 * the two per-request values (state and PKCE challenge, both URL-safe by construction); each request then only
 * substitutes them. Falls back to building through the client every time if the template cannot be made.
 *
 * Per redirect: 32 random bytes of nonce, the state's HMAC, the verifier's HMAC and its SHA-256 (the challenge).
 * Nothing is stored and nothing is returned but the state and the URL: the verifier is recomputed at the callback.
 */
export function createAuthorizeStarter(
  tiktok: TikTokClient,
  states: OAuthStates,
  options: AuthorizeUrlFactoryOptions,
): (binding: StateBinding, expSeconds: number) => { state: string; url: string } {
  const pool = new RandomPool();
  const build = (state: string, codeChallenge: string) =>
    tiktok
      .buildAuthorizeUrl({
        redirectUri: options.redirectUri,
        scopes: options.scopes,
        state,
        codeChallenge,
        extras: options.extras,
      })
      .toString();

  const template = build(STATE_PLACEHOLDER, CHALLENGE_PLACEHOLDER);
  const parts = template.split(STATE_PLACEHOLDER);
  const usable = parts.length === 2 && template.split(CHALLENGE_PLACEHOLDER).length === 2;

  return (binding, expSeconds) => {
    const nonce = pool.base64url(32);
    const state = states.issue(nonce, expSeconds, binding);
    const challenge = pkceChallenge(states.verifier(nonce));
    const url = usable
      ? `${parts[0]}${state}${parts[1]}`.replace(CHALLENGE_PLACEHOLDER, challenge)
      : build(state, challenge);
    return { state, url };
  };
}
