import { expect } from 'vitest';
import { CryptoError, type CryptoErrorCode } from '../src/index.js';

/** Runs `fn` and asserts it throws a CryptoError with `code`; returns the error for further checks. */
export function expectCryptoError(fn: () => unknown, code: CryptoErrorCode): CryptoError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe(code);
    return error as CryptoError;
  }
  throw new Error(`expected a CryptoError with code ${code}, but nothing was thrown`);
}

/** Replaces part `index` (0 version, 1 key id, 2 iv, 3 ciphertext+tag) of a v1 string. */
export function withPart(ciphertext: string, index: number, replace: (part: string) => string): string {
  const parts = ciphertext.split('.');
  parts[index] = replace(parts[index] ?? '');
  return parts.join('.');
}

/** Flips one bit of the decoded bytes of a base64url part at byte `at` (negative counts from the end). */
export function flipByte(part: string, at: number): string {
  const bytes = Buffer.from(part, 'base64url');
  const index = at < 0 ? bytes.length + at : at;
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}
