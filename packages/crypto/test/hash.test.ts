import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashToken, safeEqual } from '../src/index.js';

describe('hashToken', () => {
  it('returns the lowercase sha256 hex of the token', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('rft.ü')).toBe(createHash('sha256').update('rft.ü', 'utf8').digest('hex'));
  });

  it('differs for different tokens and never contains the token', () => {
    expect(hashToken('rft.one')).not.toBe(hashToken('rft.two'));
    expect(hashToken('deadbeef')).not.toContain('deadbeef');
  });
});

describe('safeEqual', () => {
  it('is true only for equal values', () => {
    expect(safeEqual('secret-key', 'secret-key')).toBe(true);
    expect(safeEqual('secret-key', 'secret-kez')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });

  it('handles different lengths without throwing', () => {
    expect(safeEqual('short', 'a much longer value')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
  });

  it('compares strings and bytes by their UTF-8 content', () => {
    expect(safeEqual('ü', Buffer.from('ü', 'utf8'))).toBe(true);
    expect(safeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(safeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
  });
});
