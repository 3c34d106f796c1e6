import { describe, expect, it } from 'vitest';
import {
  classifyTikTokError,
  isPermanentTikTokError,
  isTikTokError,
  isTransientTikTokError,
  TIKTOK_ERROR_KINDS,
  TikTokError,
  TikTokErrorCode,
} from '../src/index.js';

describe('error classification table', () => {
  it.each([
    // TikTok error string, HTTP status, expected code, permanent, transient
    ['invalid_grant', 400, 'TIKTOK_INVALID_GRANT', true, false],
    ['invalid_client', 401, 'TIKTOK_INVALID_CLIENT', true, false],
    ['unauthorized_client', 400, 'TIKTOK_UNAUTHORIZED_CLIENT', true, false],
    ['invalid_scope', 400, 'TIKTOK_INVALID_SCOPE', true, false],
    ['access_denied', 400, 'TIKTOK_ACCESS_DENIED', true, false],
    ['invalid_request', 400, 'TIKTOK_INVALID_REQUEST', true, false],
    ['unsupported_grant_type', 400, 'TIKTOK_UNSUPPORTED_GRANT_TYPE', true, false],
    ['access_token_invalid', 401, 'TIKTOK_ACCESS_TOKEN_INVALID', true, false],
    ['scope_not_authorized', 401, 'TIKTOK_SCOPE_NOT_AUTHORIZED', true, false],
    ['scope_permission_missed', 400, 'TIKTOK_SCOPE_PERMISSION_MISSED', true, false],
    ['invalid_params', 400, 'TIKTOK_INVALID_PARAMS', true, false],
    ['server_error', 500, 'TIKTOK_SERVER_ERROR', false, true],
    ['server_error', 200, 'TIKTOK_SERVER_ERROR', false, true],
    ['temporarily_unavailable', 503, 'TIKTOK_TEMPORARILY_UNAVAILABLE', false, true],
    ['rate_limit_exceeded', 429, 'TIKTOK_RATE_LIMITED', false, true],
    ['internal_error', 500, 'TIKTOK_SERVER_ERROR', false, true],
    [undefined, 429, 'TIKTOK_RATE_LIMITED', false, true],
    [undefined, 500, 'TIKTOK_SERVER_ERROR', false, true],
    [undefined, 502, 'TIKTOK_SERVER_ERROR', false, true],
    [undefined, 503, 'TIKTOK_TEMPORARILY_UNAVAILABLE', false, true],
    ['something_new', 503, 'TIKTOK_TEMPORARILY_UNAVAILABLE', false, true],
    ['something_new', 400, 'TIKTOK_UNEXPECTED_ERROR', false, false],
    [undefined, 404, 'TIKTOK_UNEXPECTED_ERROR', false, false],
  ] as const)('%s with HTTP %i → %s (permanent %s, transient %s)', (error, status, code, permanent, transient) => {
    expect(classifyTikTokError(error, status)).toBe(code);
    const e = new TikTokError(classifyTikTokError(error, status), 'x', { error, status });
    expect(e.permanent).toBe(permanent);
    expect(e.transient).toBe(transient);
    expect(isPermanentTikTokError(e)).toBe(permanent);
    expect(isTransientTikTokError(e)).toBe(transient);
  });

  it.each([
    ['TIKTOK_NETWORK_ERROR', 'transient'],
    ['TIKTOK_TIMEOUT', 'transient'],
    ['TIKTOK_INVALID_RESPONSE', 'unknown'],
    ['TIKTOK_ABORTED', 'unknown'],
    ['TIKTOK_INVALID_CALLBACK', 'permanent'],
  ] as const)('client-side %s is %s', (code, kind) => {
    expect(new TikTokError(code, 'x').kind).toBe(kind);
  });

  it('classifies every code and no code is both permanent and transient', () => {
    for (const code of Object.values(TikTokErrorCode)) {
      const e = new TikTokError(code, 'x');
      expect(TIKTOK_ERROR_KINDS[code]).toBeDefined();
      expect(e.permanent && e.transient).toBe(false);
    }
  });

  it('is not fooled by look-alikes', () => {
    const fake = Object.assign(new Error('x'), { code: 'TIKTOK_INVALID_GRANT', permanent: true });
    expect(isTikTokError(fake)).toBe(false);
    expect(isPermanentTikTokError(fake)).toBe(false);
    expect(isTransientTikTokError(undefined)).toBe(false);
    expect(isTikTokError(new TikTokError('TIKTOK_TIMEOUT', 'x'), 'TIKTOK_TIMEOUT')).toBe(true);
    expect(isTikTokError(new TikTokError('TIKTOK_TIMEOUT', 'x'), 'TIKTOK_INVALID_GRANT')).toBe(false);
  });
});
