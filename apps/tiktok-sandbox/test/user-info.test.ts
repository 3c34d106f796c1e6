import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AVA, sandbox, type TestSandbox, tokensFor } from './helpers.js';

let s: TestSandbox;
beforeEach(async () => {
  s = await sandbox();
});
afterEach(async () => {
  await s.app.close();
});

function userInfo(token: string | undefined, fields: string | undefined) {
  return s.app.inject({
    method: 'GET',
    url: fields === undefined ? '/v2/user/info/' : `/v2/user/info/?fields=${fields}`,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

describe('user info', () => {
  it('returns only the requested fields, in TikTok’s envelope', async () => {
    const { access_token } = await tokensFor(s);
    const res = await userInfo(access_token, 'open_id,union_id,avatar_url,display_name');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data.user).toEqual({
      open_id: AVA,
      union_id: 'sbx-union-ava',
      avatar_url: 'http://localhost:80/avatars/sbx-open-ava.svg',
      display_name: 'Ava Martin',
    });
    expect(body.error).toEqual({ code: 'ok', message: '', log_id: expect.any(String) });
    expect(res.headers['x-tt-logid']).toBe(body.error.log_id);
  });

  it('uses publicUrl for avatar URLs when configured', async () => {
    const pub = await (await import('./helpers.js')).sandbox({ publicUrl: 'https://sandbox.example.test/' });
    try {
      const { access_token } = await tokensFor(pub);
      const res = await pub.app.inject({
        method: 'GET',
        url: '/v2/user/info/?fields=avatar_url',
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(res.json().data.user.avatar_url).toBe('https://sandbox.example.test/avatars/sbx-open-ava.svg');
    } finally {
      await pub.app.close();
    }
  });

  it('returns profile and stats fields when their scopes were granted', async () => {
    const { access_token } = await tokensFor(s, AVA, ['user.info.basic', 'user.info.profile', 'user.info.stats']);
    const res = await userInfo(access_token, 'username,is_verified,follower_count,video_count');
    expect(res.json().data.user).toEqual({
      username: 'ava.martin',
      is_verified: true,
      follower_count: 128_400,
      video_count: 214,
    });
  });

  it('answers scope_not_authorized 401 for a field whose scope was not granted', async () => {
    const { access_token } = await tokensFor(s, AVA, ['user.info.basic']);
    const res = await userInfo(access_token, 'open_id,username');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ data: {}, error: { code: 'scope_not_authorized' } });
  });

  it('answers invalid_params 400 without fields or with an unknown field', async () => {
    const { access_token } = await tokensFor(s);
    for (const fields of [undefined, '', 'open_id,shoe_size']) {
      const res = await userInfo(access_token, fields);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_params');
    }
  });

  it('answers access_token_invalid 401 for a missing, unknown or expired token', async () => {
    expect((await userInfo(undefined, 'open_id')).json().error.code).toBe('access_token_invalid');
    const unknown = await userInfo('act.nope', 'open_id');
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toMatchObject({ data: {}, error: { code: 'access_token_invalid' } });

    await s.control.setLifetimes({ accessTokenTtlSeconds: 60 });
    const { access_token } = await tokensFor(s);
    expect((await userInfo(access_token, 'open_id')).statusCode).toBe(200);
    await s.control.advanceTime(60);
    const expired = await userInfo(access_token, 'open_id');
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('access_token_invalid');
    const calls = await s.control.calls({ endpoint: 'userinfo', openId: AVA });
    expect(calls.map((c) => [c.status, c.error])).toEqual([
      [200, undefined],
      [401, 'access_token_invalid'],
    ]);
  });
});
