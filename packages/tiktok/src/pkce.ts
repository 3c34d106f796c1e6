import { createHash, randomBytes } from 'node:crypto';
import { TikTokError, TikTokErrorCode } from './errors.js';

/** A PKCE verifier (kept secret until the code exchange) and the challenge sent on the authorize URL. */
export interface PkcePair {
  verifier: string;
  challenge: string;
}

// RFC 7636 §4.1: 43–128 characters from the unreserved set.
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * A fresh PKCE pair: the verifier is base64url of 48 random bytes (64 characters, 288 bits of entropy);
 * the challenge is in TikTok's form, see {@link pkceChallenge}.
 */
export function createPkcePair(): PkcePair {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

/**
 * TikTok's S256 code challenge: the lowercase HEX of SHA-256(verifier). TikTok does not use RFC 7636's
 * base64url encoding here (its Android SDK's PKCEUtils and desktop docs hash and hex-encode), so a standard
 * OAuth library's challenge would be refused.
 *
 * @throws {TikTokError} `TIKTOK_INVALID_ARGUMENT` when the verifier is not 43–128 unreserved characters.
 */
export function pkceChallenge(verifier: string): string {
  if (typeof verifier !== 'string' || !VERIFIER.test(verifier)) {
    throw new TikTokError(
      TikTokErrorCode.INVALID_ARGUMENT,
      'PKCE verifier must be 43-128 characters from [A-Za-z0-9-._~]',
    );
  }
  return createHash('sha256').update(verifier, 'ascii').digest('hex');
}

/** `true` when `challenge` has the shape of TikTok's challenge (64 lowercase hex characters). */
export function isTikTokPkceChallenge(challenge: string): boolean {
  return /^[0-9a-f]{64}$/.test(challenge);
}
