import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPkcePair, isTikTokPkceChallenge, pkceChallenge, TikTokErrorCode } from '../src/index.js';

// RFC 7636 Appendix B: its base64url challenge, re-encoded as hex, is TikTok's form of the same SHA-256.
const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC_CHALLENGE_BASE64URL = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const RFC_CHALLENGE_HEX = '13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3';

describe('pkceChallenge', () => {
  it('gives the lowercase hex SHA-256 of the RFC 7636 test verifier', () => {
    expect(pkceChallenge(RFC_VERIFIER)).toBe(RFC_CHALLENGE_HEX);
    expect(Buffer.from(RFC_CHALLENGE_BASE64URL, 'base64url').toString('hex')).toBe(RFC_CHALLENGE_HEX);
  });

  it('is not the RFC 7636 base64url form', () => {
    expect(pkceChallenge(RFC_VERIFIER)).not.toBe(RFC_CHALLENGE_BASE64URL);
  });

  it('matches node:crypto for a random verifier', () => {
    const { verifier } = createPkcePair();
    expect(pkceChallenge(verifier)).toBe(createHash('sha256').update(verifier).digest('hex'));
  });

  it.each([
    ['too short', 'a'.repeat(42)],
    ['too long', 'a'.repeat(129)],
    ['reserved characters', `${'a'.repeat(42)}+`],
    ['empty', ''],
  ])('refuses a verifier that is %s', (_label, verifier) => {
    expect(() => pkceChallenge(verifier)).toThrow(expect.objectContaining({ code: TikTokErrorCode.INVALID_ARGUMENT }));
  });

  it('accepts the boundary lengths 43 and 128', () => {
    expect(pkceChallenge('a'.repeat(43))).toMatch(/^[0-9a-f]{64}$/);
    expect(pkceChallenge('~'.repeat(128))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('createPkcePair', () => {
  it('makes a 43-128 character unreserved verifier and its hex challenge', () => {
    const pair = createPkcePair();
    expect(pair.verifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
    expect(pair.challenge).toBe(createHash('sha256').update(pair.verifier).digest('hex'));
    expect(isTikTokPkceChallenge(pair.challenge)).toBe(true);
  });

  it('never repeats a verifier', () => {
    const verifiers = new Set(Array.from({ length: 1000 }, () => createPkcePair().verifier));
    expect(verifiers.size).toBe(1000);
  });
});
