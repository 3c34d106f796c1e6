import { describe, expect, it } from 'vitest';
import {
  classifyTikTokError,
  isPermanentTikTokError,
  isTikTokError,
  isTransientTikTokError,
  processRevokeResponse,
  processTokenResponse,
  processUserInfoResponse,
  TIKTOK_ERROR_KINDS,
  TikTokError,
  TikTokErrorCode,
} from '../src/index.js';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

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

const tokenBody = {
  access_token: 'act.example-access',
  expires_in: 7200,
  open_id: 'open-1',
  refresh_token: 'rft.example-refresh',
  refresh_expires_in: 15552000,
  scope: 'user.info.basic,video.list',
  token_type: 'Bearer',
};

describe('processTokenResponse', () => {
  it('computes expiry from the lifetimes in the answer, counted from the request time', async () => {
    const requestedAt = Date.UTC(2030, 0, 1);
    const tokens = await processTokenResponse(json(tokenBody), { requestedAt });
    expect(tokens).toEqual({
      accessToken: 'act.example-access',
      refreshToken: 'rft.example-refresh',
      openId: 'open-1',
      scopes: ['user.info.basic', 'video.list'],
      expiresIn: 7200,
      refreshExpiresIn: 15552000,
      tokenType: 'Bearer',
      accessTokenExpiresAt: new Date(requestedAt + 7200_000),
      refreshTokenExpiresAt: new Date(requestedAt + 15552000_000),
    });
  });

  it('treats an OAuth error body sent with HTTP 200 as an error', async () => {
    const error = await processTokenResponse(
      json({ error: 'server_error', error_description: 'Something broke', log_id: 'L1' }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TikTokError);
    expect(error).toMatchObject({
      code: 'TIKTOK_SERVER_ERROR',
      error: 'server_error',
      errorDescription: 'Something broke',
      logId: 'L1',
      status: 200,
      transient: true,
    });
  });

  it('maps invalid_grant to a permanent error carrying TikTok details', async () => {
    const error = await processTokenResponse(
      json({ error: 'invalid_grant', error_description: 'Refresh token is invalid', log_id: 'L2' }, 400),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIKTOK_INVALID_GRANT', status: 400, logId: 'L2', permanent: true });
    expect((error as Error).message).toContain('invalid_grant');
  });

  it.each([
    ['HTML', '<html>Bad gateway</html>', 200],
    ['an empty body', '', 200],
    ['truncated JSON', '{"access_token":"act.x",', 200],
  ])('refuses %s with HTTP 200 as an invalid response', async (_label, body, status) => {
    const error = await processTokenResponse(new Response(body, { status })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIKTOK_INVALID_RESPONSE', status: 200 });
  });

  it.each([
    ['a missing refresh token', { ...tokenBody, refresh_token: undefined }],
    ['a string lifetime', { ...tokenBody, expires_in: '7200' }],
    ['a zero lifetime', { ...tokenBody, refresh_expires_in: 0 }],
    ['an empty open_id', { ...tokenBody, open_id: '' }],
    ['an array', [tokenBody]],
  ])('refuses a success body with %s', async (_label, body) => {
    await expect(processTokenResponse(json(body))).rejects.toMatchObject({ code: 'TIKTOK_INVALID_RESPONSE' });
  });

  it('carries Retry-After as seconds on a 429', async () => {
    const response = new Response(JSON.stringify({ error: 'rate_limit_exceeded', log_id: 'L' }), {
      status: 429,
      headers: { 'retry-after': '7' },
    });
    await expect(processTokenResponse(response)).rejects.toMatchObject({
      code: 'TIKTOK_RATE_LIMITED',
      retryAfterSeconds: 7,
    });
  });

  it('classifies an HTML 502 by its status, not as an invalid response', async () => {
    await expect(processTokenResponse(new Response('<html>502</html>', { status: 502 }))).rejects.toMatchObject({
      code: 'TIKTOK_SERVER_ERROR',
      status: 502,
      transient: true,
    });
  });

  it('scrubs tokens and secrets that an error description echoes', async () => {
    const error = (await processTokenResponse(
      json({ error: 'invalid_grant', error_description: 'token rft.abc123DEF is dead, secret s3cr3t-value-xyz' }, 400),
      { secrets: ['s3cr3t-value-xyz'] },
    ).catch((e: unknown) => e)) as TikTokError;
    expect(error.message).not.toContain('rft.abc123DEF');
    expect(error.message).not.toContain('s3cr3t-value-xyz');
    expect(error.errorDescription).toBe('token [redacted] is dead, secret [redacted]');
  });

  it('never puts the tokens of a malformed success body in the error', async () => {
    const error = (await processTokenResponse(
      new Response('{"access_token":"act.leaky","refresh_token":"rft.leaky"', { status: 200 }),
    ).catch((e: unknown) => e)) as TikTokError;
    expect(JSON.stringify({ ...error, message: error.message, cause: String(error.cause) })).not.toMatch(/leaky/);
  });
});

describe('processRevokeResponse', () => {
  it('accepts 200 with an empty body', async () => {
    await expect(processRevokeResponse(new Response('', { status: 200 }))).resolves.toBeUndefined();
  });

  it('accepts 200 with {}', async () => {
    await expect(processRevokeResponse(json({}))).resolves.toBeUndefined();
  });

  it('refuses 200 with an OAuth error', async () => {
    await expect(processRevokeResponse(json({ error: 'invalid_client', log_id: 'x' }))).rejects.toMatchObject({
      code: 'TIKTOK_INVALID_CLIENT',
      permanent: true,
    });
  });

  it('refuses 200 with a non-JSON body', async () => {
    await expect(processRevokeResponse(new Response('ok?', { status: 200 }))).rejects.toMatchObject({
      code: 'TIKTOK_INVALID_RESPONSE',
    });
  });
});

describe('processUserInfoResponse', () => {
  const ok = { code: 'ok', message: '', log_id: 'L' };

  it('maps the user to camelCase and leaves out absent fields', async () => {
    const user = await processUserInfoResponse(
      json({
        data: {
          user: { open_id: 'o', union_id: 'u', display_name: 'Ava', avatar_url: 'https://a/x.png', username: null },
        },
        error: ok,
      }),
    );
    expect(user).toEqual({ openId: 'o', unionId: 'u', displayName: 'Ava', avatarUrl: 'https://a/x.png' });
  });

  it.each([
    ['access_token_invalid', 401, 'TIKTOK_ACCESS_TOKEN_INVALID'],
    ['scope_not_authorized', 401, 'TIKTOK_SCOPE_NOT_AUTHORIZED'],
    ['rate_limit_exceeded', 429, 'TIKTOK_RATE_LIMITED'],
    ['internal_error', 500, 'TIKTOK_SERVER_ERROR'],
    ['internal_error', 200, 'TIKTOK_SERVER_ERROR'],
  ])('maps API error %s (HTTP %i) to %s', async (apiCode, status, code) => {
    await expect(
      processUserInfoResponse(json({ data: {}, error: { code: apiCode, message: 'm', log_id: 'L9' } }, status)),
    ).rejects.toMatchObject({ code, error: apiCode, errorDescription: 'm', logId: 'L9', status });
  });

  it('refuses a success body without a user', async () => {
    await expect(processUserInfoResponse(json({ data: {}, error: ok }))).rejects.toMatchObject({
      code: 'TIKTOK_INVALID_RESPONSE',
    });
  });
});
