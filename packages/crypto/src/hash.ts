import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * SHA-256 of a token as lowercase hex: a fingerprint that is safe to log or store for lookups and comparisons
 * (tokens are long random strings, so an unsalted hash does not make them guessable).
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Compares two secrets in constant time. Both sides are hashed first, so neither the content nor the length of
 * the expected value leaks through timing (`timingSafeEqual` alone throws on, and thus reveals, a length mismatch).
 */
export function safeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const digestA = createHash('sha256').update(a).digest();
  const digestB = createHash('sha256').update(b).digest();
  return timingSafeEqual(digestA, digestB);
}
