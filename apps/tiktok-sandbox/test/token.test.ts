import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tiktokCodeChallenge } from '../src/index.js';
import {
  AVA,
  authorizeQuery,
  CLIENT_KEY,
  exchange,
  FORM,
  form,
  loginAs,
  REDIRECT_URI,
  sandbox,
  type TestSandbox,
  tokensFor,
} from './helpers.js';

let s: TestSandbox;
beforeEach(async () => {
  s = await sandbox();
});
afterEach(async () => {
  await s.app.close();
});

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk_0123456789';

async function codeFromBrowser(extra: Record<string, string> = {}): Promise<string> {
  const cookie = await loginAs(s.app, AVA);
  const res = await s.app.inject({
    method: 'GET',
    url: `/v2/auth/authorize/?${authorizeQuery(extra)}`,
    headers: { cookie },
  });
  expect(res.statusCode).toBe(302);
  return new URL(res.headers.location ?? '').searchParams.get('code') ?? '';
}

describe('authorization code exchange', () => {
  it('issues TikTok-shaped tokens for a code', async () => {
    const code = await codeFromBrowser();
    const res = await exchange(s.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      expires_in: 7200,
      open_id: AVA,
      refresh_expires_in: 15_552_000,
      scope: 'user.info.basic,video.list',
      token_type: 'Bearer',
    });
    expect(res.body.access_token).toMatch(/^act\./);
    expect(res.body.refresh_token).toMatch(/^rft\./);
    expect(res.body.log_id).toMatch(/^\d{14}[0-9A-F]{20}$/);
    const calls = await s.control.calls({ endpoint: 'token' });
    expect(calls).toEqual([
      expect.objectContaining({ endpoint: 'token', status: 200, openId: AVA, grantType: 'authorization_code' }),
    ]);
  });

  it('rejects a replayed code with invalid_grant', async () => {
    const code = await codeFromBrowser();
    expect((await exchange(s.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI })).status).toBe(
      200,
    );
    const replay = await exchange(s.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: 'invalid_grant' });
    expect(typeof replay.body.error_description).toBe('string');
    expect(typeof replay.body.log_id).toBe('string');
    const calls = await s.control.calls({ endpoint: 'token' });
    expect(calls.at(-1)).toMatchObject({ status: 400, error: 'invalid_grant', codeReused: true, openId: AVA });
  });

  it('rejects an expired code with invalid_grant', async () => {
    await s.control.setLifetimes({ codeTtlSeconds: 30 });
    const code = await codeFromBrowser();
    await s.control.advanceTime(31);
    const res = await exchange(s.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    expect(res.body).toMatchObject({ error: 'invalid_grant', error_description: 'Authorization code is expired.' });
  });

  it('expires codes in real time too', async () => {
    const quick = await sandbox({ codeTtlSeconds: 1 });
    try {
      const { code } = await quick.control.mintCode({ openId: AVA, redirectUri: REDIRECT_URI });
      await new Promise((r) => setTimeout(r, 1100));
      const res = await exchange(quick.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
      expect(res.body.error).toBe('invalid_grant');
    } finally {
      await quick.app.close();
    }
  });

  it('rejects a redirect_uri different from the authorize one with invalid_grant, and the code stays usable', async () => {
    const code = await codeFromBrowser();
    const wrong = await exchange(s.app, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: `${REDIRECT_URI}/other`,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const missing = await exchange(s.app, { grant_type: 'authorization_code', code });
    expect(missing.body.error).toBe('invalid_request');
    const right = await exchange(s.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    expect(right.status).toBe(200);
  });

  it('accepts the lowercase hex S256 verifier and rejects a wrong or missing one', async () => {
    const challenge = tiktokCodeChallenge(VERIFIER);
    expect(challenge).toMatch(/^[0-9a-f]{64}$/);
    const code = await codeFromBrowser({ code_challenge: challenge, code_challenge_method: 'S256' });
    const base = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI };
    expect((await exchange(s.app, base)).body.error).toBe('invalid_grant');
    expect((await exchange(s.app, { ...base, code_verifier: `${VERIFIER}x` })).body.error).toBe('invalid_grant');
    expect((await exchange(s.app, { ...base, code_verifier: 'short' })).body.error).toBe('invalid_request');
    const ok = await exchange(s.app, { ...base, code_verifier: VERIFIER });
    expect(ok.status).toBe(200);
  });

  it('rejects an RFC 7636 base64url challenge at the token exchange, as TikTok compares hex', async () => {
    const { createHash } = await import('node:crypto');
    const base64url = createHash('sha256').update(VERIFIER).digest('base64url');
    const code = await codeFromBrowser({ code_challenge: base64url, code_challenge_method: 'S256' });
    const res = await exchange(s.app, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: VERIFIER,
    });
    expect(res.body.error).toBe('invalid_grant');
  });

  it('rejects a bad client secret or key with invalid_client', async () => {
    const code = await codeFromBrowser();
    const res = await exchange(s.app, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_secret: 'wrong',
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(JSON.stringify(res.body)).not.toContain('wrong');
    const badKey = await exchange(s.app, { grant_type: 'authorization_code', code, client_key: 'other' });
    expect(badKey.body.error).toBe('invalid_client');
    // The code was not burnt by the failed attempts.
    expect((await exchange(s.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI })).status).toBe(
      200,
    );
  });

  it('rejects an unknown grant_type with unsupported_grant_type and a missing one with invalid_request', async () => {
    expect((await exchange(s.app, { grant_type: 'client_credentials' })).body.error).toBe('unsupported_grant_type');
    expect((await exchange(s.app, {})).body.error).toBe('invalid_request');
  });

  it('requires a form-encoded body', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/v2/oauth/token/',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ client_key: CLIENT_KEY }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_request' });
    const xml = await s.app.inject({
      method: 'POST',
      url: '/v2/oauth/token/',
      headers: { 'content-type': 'text/xml' },
      payload: '<x/>',
    });
    expect(xml.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('reflects configured lifetimes in expires_in and refresh_expires_in', async () => {
    const custom = await sandbox({ accessTokenTtlSeconds: 7200, refreshTokenTtlSeconds: 15_552_000 });
    try {
      const tokens = await tokensFor(custom);
      expect(tokens.expires_in).toBe(7200);
      expect(tokens.refresh_expires_in).toBe(15_552_000);
    } finally {
      await custom.app.close();
    }
  });
});

describe('refresh', () => {
  const refresh = (token: string) => exchange(s.app, { grant_type: 'refresh_token', refresh_token: token });

  it('rotates the refresh token on every refresh and rejects the old one as reused', async () => {
    const first = await tokensFor(s);
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).toMatch(/^rft\./);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.access_token).not.toBe(first.access_token);
    expect(second.body.scope).toBe('user.info.basic');
    const third = await refresh(String(second.body.refresh_token));
    expect(third.status).toBe(200);
    expect(third.body.refresh_token).not.toBe(second.body.refresh_token);

    const reused = await refresh(first.refresh_token);
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
    const calls = await s.control.calls({ endpoint: 'refresh' });
    expect(calls.map((c) => c.status)).toEqual([200, 200, 400]);
    expect(calls.at(-1)).toMatchObject({ refreshTokenReused: true, openId: AVA, grantType: 'refresh_token' });
    expect(calls[0]?.refreshTokenReused).toBeUndefined();

    // The loser of a race does not kill the newest token.
    expect((await refresh(String(third.body.refresh_token))).status).toBe(200);
  });

  it('gives refreshed tokens the lifetimes in force at that moment', async () => {
    const first = await tokensFor(s);
    expect(first.expires_in).toBe(7200);
    await s.control.setLifetimes({ accessTokenTtlSeconds: 86_400, refreshTokenTtlSeconds: 31_536_000 });
    const next = await refresh(first.refresh_token);
    expect(next.body).toMatchObject({ expires_in: 86_400, refresh_expires_in: 31_536_000 });
  });

  it('rejects an expired refresh token with invalid_grant', async () => {
    await s.control.setLifetimes({ refreshTokenTtlSeconds: 60 });
    const first = await tokensFor(s);
    await s.control.advanceTime(61);
    const res = await refresh(first.refresh_token);
    expect(res.body).toMatchObject({ error: 'invalid_grant', error_description: 'Refresh token is expired.' });
  });

  it('rejects an unknown refresh token with invalid_grant and a missing one with invalid_request', async () => {
    expect((await refresh('rft.unknown')).body.error).toBe('invalid_grant');
    expect((await exchange(s.app, { grant_type: 'refresh_token' })).body.error).toBe('invalid_request');
  });

  it('rejects refresh for a user revoked through the control API', async () => {
    const first = await tokensFor(s);
    await s.control.revokeUser(AVA);
    const res = await refresh(first.refresh_token);
    expect(res.body.error).toBe('invalid_grant');
  });
});

describe('revoke', () => {
  it('answers 200 with an empty body and cuts the user off', async () => {
    const tokens = await tokensFor(s);
    const res = await s.app.inject({
      method: 'POST',
      url: '/v2/oauth/revoke/',
      headers: FORM,
      payload: form({ client_key: CLIENT_KEY, client_secret: 'sbx_client_secret', token: tokens.access_token }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['x-tt-logid']).toBeTruthy();

    const info = await s.app.inject({
      method: 'GET',
      url: '/v2/user/info/?fields=open_id',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(info.statusCode).toBe(401);
    expect(info.json().error.code).toBe('access_token_invalid');
    const refreshed = await exchange(s.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refreshed.body.error).toBe('invalid_grant');
    expect(await s.control.calls({ endpoint: 'revoke' })).toEqual([
      expect.objectContaining({ status: 200, openId: AVA }),
    ]);
  });

  it('is idempotent for unknown tokens and checks the client', async () => {
    const unknown = await s.app.inject({
      method: 'POST',
      url: '/v2/oauth/revoke/',
      headers: FORM,
      payload: form({ client_key: CLIENT_KEY, client_secret: 'sbx_client_secret', token: 'act.unknown' }),
    });
    expect(unknown.statusCode).toBe(200);
    const badClient = await s.app.inject({
      method: 'POST',
      url: '/v2/oauth/revoke/',
      headers: FORM,
      payload: form({ client_key: CLIENT_KEY, client_secret: 'nope', token: 'act.unknown' }),
    });
    expect(badClient.json()).toMatchObject({ error: 'invalid_client' });
    const missing = await s.app.inject({
      method: 'POST',
      url: '/v2/oauth/revoke/',
      headers: FORM,
      payload: form({ client_key: CLIENT_KEY, client_secret: 'sbx_client_secret' }),
    });
    expect(missing.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('lets the user authorize again after a revoke', async () => {
    await tokensFor(s);
    await s.control.revokeUser(AVA);
    const again = await tokensFor(s);
    expect(again.access_token).toMatch(/^act\./);
  });
});
