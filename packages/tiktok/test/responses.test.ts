import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPkcePair, createTikTokClient, type TikTokClient, TikTokError } from '../src/index.js';

// How the client reads TikTok's answers, through the injectable `fetch`: every call gets a fresh copy of one
// prepared response. The wire format and transport failures are tested over HTTP in transport.test.ts.
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function answering(response: Response, clientSecret = 'cs_secret_1') {
  return createTikTokClient({ clientKey: 'ck_1', clientSecret, fetch: async () => response.clone() });
}

const tokenBody = {
  access_token: 'act.example-access',
  expires_in: 7200,
  open_id: 'open-1',
  refresh_token: 'rft.example-refresh',
  refresh_expires_in: 15552000,
  scope: 'user.info.basic,video.list',
  token_type: 'Bearer',
};

describe('token answers (exchangeCode, refresh)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    [
      'exchangeCode',
      (c: TikTokClient) =>
        c.exchangeCode({ code: 'c0de', redirectUri: 'https://a.example/cb', codeVerifier: createPkcePair().verifier }),
    ],
    ['refresh', (c: TikTokClient) => c.refresh('rft.old')],
  ])('%s computes expiry from the lifetimes in the answer, counted from the request time', async (_grant, call) => {
    const requestedAt = Date.UTC(2030, 0, 1);
    vi.useFakeTimers({ toFake: ['Date'], now: requestedAt });
    // The answer arrives a minute after the request was sent; expiry must still count from the request.
    const slow: typeof fetch = async () => {
      vi.setSystemTime(requestedAt + 60_000);
      return json(tokenBody);
    };
    const tokens = await call(createTikTokClient({ clientKey: 'ck_1', clientSecret: 'cs_secret_1', fetch: slow }));
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
    const error = await answering(json({ error: 'server_error', error_description: 'Something broke', log_id: 'L1' }))
      .refresh('rft.x')
      .catch((e: unknown) => e);
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
    const error = await answering(
      json({ error: 'invalid_grant', error_description: 'Refresh token is invalid', log_id: 'L2' }, 400),
    )
      .refresh('rft.x')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIKTOK_INVALID_GRANT', status: 400, logId: 'L2', permanent: true });
    expect((error as Error).message).toContain('invalid_grant');
  });

  it.each([
    ['HTML', '<html>Bad gateway</html>', 200],
    ['an empty body', '', 200],
    ['truncated JSON', '{"access_token":"act.x",', 200],
  ])('refuses %s with HTTP 200 as an invalid response', async (_label, body, status) => {
    const error = await answering(new Response(body, { status }))
      .refresh('rft.x')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIKTOK_INVALID_RESPONSE', status: 200 });
  });

  it.each([
    ['a missing refresh token', { ...tokenBody, refresh_token: undefined }],
    ['a string lifetime', { ...tokenBody, expires_in: '7200' }],
    ['a zero lifetime', { ...tokenBody, refresh_expires_in: 0 }],
    ['an empty open_id', { ...tokenBody, open_id: '' }],
    ['an array', [tokenBody]],
  ])('refuses a success body with %s', async (_label, body) => {
    await expect(answering(json(body)).refresh('rft.x')).rejects.toMatchObject({ code: 'TIKTOK_INVALID_RESPONSE' });
  });

  it('carries Retry-After as seconds on a 429', async () => {
    const response = new Response(JSON.stringify({ error: 'rate_limit_exceeded', log_id: 'L' }), {
      status: 429,
      headers: { 'retry-after': '7' },
    });
    await expect(answering(response).refresh('rft.x')).rejects.toMatchObject({
      code: 'TIKTOK_RATE_LIMITED',
      retryAfterSeconds: 7,
    });
  });

  it('classifies an HTML 502 by its status, not as an invalid response', async () => {
    await expect(answering(new Response('<html>502</html>', { status: 502 })).refresh('rft.x')).rejects.toMatchObject({
      code: 'TIKTOK_SERVER_ERROR',
      status: 502,
      transient: true,
    });
  });

  it('scrubs tokens and secrets that an error description echoes', async () => {
    // The client secret is scrubbed because the client knows it; rft.abc123DEF (not the token it sent) by its shape.
    const error = (await answering(
      json({ error: 'invalid_grant', error_description: 'token rft.abc123DEF is dead, secret s3cr3t-value-xyz' }, 400),
      's3cr3t-value-xyz',
    )
      .refresh('rft.other')
      .catch((e: unknown) => e)) as TikTokError;
    expect(error.message).not.toContain('rft.abc123DEF');
    expect(error.message).not.toContain('s3cr3t-value-xyz');
    expect(error.errorDescription).toBe('token [redacted] is dead, secret [redacted]');
  });

  it('never puts the tokens of a malformed success body in the error', async () => {
    const error = (await answering(
      new Response('{"access_token":"act.leaky","refresh_token":"rft.leaky"', { status: 200 }),
    )
      .refresh('rft.x')
      .catch((e: unknown) => e)) as TikTokError;
    expect(JSON.stringify({ ...error, message: error.message, cause: String(error.cause) })).not.toMatch(/leaky/);
  });
});

describe('revoke answers', () => {
  it('accepts 200 with an empty body', async () => {
    await expect(answering(new Response('', { status: 200 })).revoke('act.x')).resolves.toBeUndefined();
  });

  it('accepts 200 with {}', async () => {
    await expect(answering(json({})).revoke('act.x')).resolves.toBeUndefined();
  });

  it('refuses 200 with an OAuth error', async () => {
    await expect(answering(json({ error: 'invalid_client', log_id: 'x' })).revoke('act.x')).rejects.toMatchObject({
      code: 'TIKTOK_INVALID_CLIENT',
      permanent: true,
    });
  });

  it('refuses 200 with a non-JSON body', async () => {
    await expect(answering(new Response('ok?', { status: 200 })).revoke('act.x')).rejects.toMatchObject({
      code: 'TIKTOK_INVALID_RESPONSE',
    });
  });
});

describe('user info answers', () => {
  const ok = { code: 'ok', message: '', log_id: 'L' };

  it('maps the user to camelCase and leaves out absent fields', async () => {
    const user = await answering(
      json({
        data: {
          user: { open_id: 'o', union_id: 'u', display_name: 'Ava', avatar_url: 'https://a/x.png', username: null },
        },
        error: ok,
      }),
    ).getUserInfo('act.x');
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
      answering(json({ data: {}, error: { code: apiCode, message: 'm', log_id: 'L9' } }, status)).getUserInfo('act.x'),
    ).rejects.toMatchObject({ code, error: apiCode, errorDescription: 'm', logId: 'L9', status });
  });

  it('refuses a success body without a user', async () => {
    await expect(answering(json({ data: {}, error: ok })).getUserInfo('act.x')).rejects.toMatchObject({
      code: 'TIKTOK_INVALID_RESPONSE',
    });
  });
});
