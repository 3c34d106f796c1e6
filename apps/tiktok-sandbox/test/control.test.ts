import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildSandboxApp,
  SANDBOX_USERS,
  SandboxError,
  type SandboxHandle,
  startSandbox,
  tiktokCodeChallenge,
} from '../src/index.js';
import { AVA, BEN, form, REDIRECT_URI } from './helpers.js';

let sbx: SandboxHandle;
beforeEach(async () => {
  sbx = await startSandbox({ clientKey: 'ck_test', clientSecret: 'cs_test' });
});
afterEach(async () => {
  await sbx.close();
});

async function token(values: Record<string, string>) {
  const res = await fetch(`${sbx.url}/v2/oauth/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-cache' },
    body: form({ client_key: sbx.clientKey, client_secret: sbx.clientSecret, ...values }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('startSandbox', () => {
  it('listens on 127.0.0.1 with a random port and exposes the TikTok URLs and credentials', () => {
    expect(sbx.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sbx.authUrl).toBe(`${sbx.url}/v2/auth/authorize/`);
    expect(sbx.clientKey).toBe('ck_test');
    expect(sbx.clientSecret).toBe('cs_test');
  });

  it('keeps each instance independent', async () => {
    const other = await startSandbox();
    try {
      const { code } = await sbx.control.mintCode({ openId: AVA, redirectUri: REDIRECT_URI });
      const res = await fetch(`${other.url}/v2/oauth/token/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({
          client_key: other.clientKey,
          client_secret: other.clientSecret,
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
        }),
      });
      expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
      expect(await other.control.calls()).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('answers 408 to a request whose body never completes', async () => {
    const slow = await startSandbox({ requestTimeoutMs: 300 });
    try {
      // A slow client: announces 100 bytes of body, sends 8, then waits.
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = request(`${slow.url}/v2/oauth/token/`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '100' },
        });
        req.on('response', (res) => resolve(res.statusCode));
        req.on('error', reject);
        req.write('code=abc');
      });
      expect(status).toBe(408);
    } finally {
      await slow.close();
    }
  });

  it('refuses invalid options with SANDBOX_INVALID_OPTIONS', async () => {
    await expect(buildSandboxApp({ accessTokenTtlSeconds: -1 })).rejects.toMatchObject({
      code: 'SANDBOX_INVALID_OPTIONS',
    });
    await expect(buildSandboxApp({ redirectUris: ['not a url'] })).rejects.toBeInstanceOf(SandboxError);
  });
});

describe('control API', () => {
  it('lists the users with absolute avatar URLs on the sandbox', async () => {
    const users = await sbx.control.users();
    expect(users.length).toBeGreaterThanOrEqual(5);
    expect(users.map((u) => u.openId)).toEqual(SANDBOX_USERS.map((u) => u.openId));
    expect(users[0]?.avatarUrl).toBe(`${sbx.url}/avatars/sbx-open-ava.svg`);
    expect(new Set(users.map((u) => u.unionId)).size).toBe(users.length);
  });

  it('logs every call with endpoint, status, openId and error, filters and resets', async () => {
    const { code } = await sbx.control.mintCode({
      openId: AVA,
      redirectUri: REDIRECT_URI,
      scopes: ['user.info.basic', 'video.list'],
      codeChallenge: tiktokCodeChallenge('v'.repeat(43)),
    });
    const first = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: 'v'.repeat(43),
    });
    expect(first.body.scope).toBe('user.info.basic,video.list');
    await token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token ?? '' });
    await token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token ?? '' });
    await fetch(`${sbx.url}/v2/user/info/?fields=open_id`, {
      headers: { authorization: `Bearer ${first.body.access_token}` },
    });
    await fetch(`${sbx.authUrl}?client_key=wrong`);

    const calls = await sbx.control.calls();
    expect(calls.map((c) => [c.endpoint, c.status, c.openId, c.error])).toEqual([
      ['token', 200, AVA, undefined],
      ['refresh', 200, AVA, undefined],
      ['refresh', 400, AVA, 'invalid_grant'],
      ['userinfo', 200, AVA, undefined],
      ['authorize', 400, undefined, 'invalid_request'],
    ]);
    for (const call of calls) {
      expect(Number.isNaN(Date.parse(call.at))).toBe(false);
      expect(call.logId).toMatch(/^\d{14}[0-9A-F]{20}$/);
    }
    // Tokens never appear in the call log.
    expect(JSON.stringify(calls)).not.toContain(first.body.access_token);
    expect(JSON.stringify(calls)).not.toContain(first.body.refresh_token);

    expect(await sbx.control.calls({ endpoint: 'refresh' })).toHaveLength(2);
    expect(await sbx.control.calls({ openId: BEN })).toHaveLength(0);
    await sbx.control.resetCalls();
    expect(await sbx.control.calls()).toEqual([]);
  });

  it('mints codes only for known users and acceptable redirect URIs', async () => {
    await expect(sbx.control.mintCode({ openId: 'sbx-open-nobody', redirectUri: REDIRECT_URI })).rejects.toMatchObject({
      code: 'SANDBOX_CONTROL_FAILED',
    });
    await expect(sbx.control.mintCode({ openId: AVA, redirectUri: 'nope' })).rejects.toThrow(
      /SANDBOX_INVALID_REDIRECT_URI/,
    );
    const minted = await sbx.control.mintCode({ openId: AVA, redirectUri: REDIRECT_URI });
    expect(minted.scopes).toBe('user.info.basic');
  });

  it('rejects malformed control requests with 400 and a stable code', async () => {
    const res = await fetch(`${sbx.url}/__sandbox/failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'token', kind: 'explode' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'SANDBOX_INVALID_REQUEST' }, log_id: expect.any(String) });
    const bad = await fetch(`${sbx.url}/__sandbox/failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
  });

  it('creates a browser session that the authorize endpoint reuses silently', async () => {
    const session = await sbx.control.createSession(BEN);
    const query = new URLSearchParams({
      client_key: sbx.clientKey,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'user.info.basic',
    });
    const res = await fetch(`${sbx.authUrl}?${query}`, {
      redirect: 'manual',
      headers: { cookie: `${session.name}=${session.value}` },
    });
    expect(res.status).toBe(302);
    const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
    expect(code).toMatch(/\*\d!\d{4}$/);
    const tokens = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    expect(tokens.body.open_id).toBe(BEN);
  });

  it('reset forgets tokens, failures, calls, lifetimes and the clock', async () => {
    await sbx.control.setLifetimes({ accessTokenTtlSeconds: 5 });
    await sbx.control.injectFailure({ endpoint: 'token', kind: 'http_500', times: Number.POSITIVE_INFINITY });
    await sbx.control.advanceTime(1000);
    await sbx.control.reset();
    const { code } = await sbx.control.mintCode({ openId: AVA, redirectUri: REDIRECT_URI });
    const res = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    expect(res.status).toBe(200);
    expect(res.body.expires_in).toBe(7200);
    expect(await sbx.control.calls()).toHaveLength(1);
  });

  it('puts a log id on every response, including 404s', async () => {
    const res = await fetch(`${sbx.url}/nothing/here`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-tt-logid')).toMatch(/^\d{14}/);
    expect(((await res.json()) as { log_id: string }).log_id).toBe(res.headers.get('x-tt-logid'));
  });
});
