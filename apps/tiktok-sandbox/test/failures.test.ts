import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SandboxFailureKind, type SandboxHandle, startSandbox } from '../src/index.js';
import { AVA, BEN, form, REDIRECT_URI } from './helpers.js';

// Real HTTP: `drop` and `latency` are about the socket, which inject() does not have.
let sbx: SandboxHandle;
beforeAll(async () => {
  sbx = await startSandbox();
});
afterAll(async () => {
  await sbx.close();
});
beforeEach(async () => {
  await sbx.control.reset();
});

async function post(path: string, values: Record<string, string>) {
  const res = await fetch(`${sbx.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ client_key: sbx.clientKey, client_secret: sbx.clientSecret, ...values }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

async function tokens(openId = AVA) {
  const { code } = await sbx.control.mintCode({ openId, redirectUri: REDIRECT_URI });
  const res = await post('/v2/oauth/token/', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  return res.body as { access_token: string; refresh_token: string };
}

const refresh = (token: string) => post('/v2/oauth/token/', { grant_type: 'refresh_token', refresh_token: token });

describe('injected failures on the token endpoint', () => {
  it.each<[SandboxFailureKind, number, string]>([
    ['http_500', 500, 'server_error'],
    ['http_503', 503, 'server_error'],
    ['rate_limit', 429, 'rate_limit_exceeded'],
    ['temporarily_unavailable', 503, 'temporarily_unavailable'],
    ['error_200', 200, 'server_error'],
    ['invalid_grant', 400, 'invalid_grant'],
  ])('%s answers HTTP %i with error %s once, and the refresh token still works after', async (kind, status, error) => {
    const t = await tokens();
    await sbx.control.injectFailure({ endpoint: 'refresh', kind });
    const failed = await refresh(t.refresh_token);
    expect(failed.status).toBe(status);
    expect(failed.body).toMatchObject({ error, error_description: expect.any(String), log_id: expect.any(String) });
    expect(failed.body.access_token).toBeUndefined();
    if (kind === 'rate_limit') expect(failed.headers.get('retry-after')).toBe('1');
    // Nothing changed before the failure: the same refresh token works on retry.
    expect((await refresh(t.refresh_token)).status).toBe(200);
    const calls = await sbx.control.calls({ endpoint: 'refresh' });
    expect(calls.map((c) => [c.status, c.error, c.injectedFailure])).toEqual([
      [status, error, kind],
      [200, undefined, undefined],
    ]);
  });

  it('drop closes the socket without an answer', async () => {
    const t = await tokens();
    await sbx.control.injectFailure({ endpoint: 'refresh', kind: 'drop' });
    await expect(refresh(t.refresh_token)).rejects.toThrow(/fetch failed/);
    expect((await refresh(t.refresh_token)).status).toBe(200);
    const calls = await sbx.control.calls({ endpoint: 'refresh' });
    expect(calls[0]).toMatchObject({ status: 0, injectedFailure: 'drop', openId: AVA });
  });

  it('latency delays the answer and then serves it normally', async () => {
    const t = await tokens();
    await sbx.control.injectFailure({ endpoint: 'refresh', kind: 'latency', latencyMs: 300 });
    const started = performance.now();
    const res = await refresh(t.refresh_token);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2000);
    expect((await sbx.control.calls({ endpoint: 'refresh' }))[0]).toMatchObject({
      status: 200,
      injectedFailure: 'latency',
    });
  });

  it('afterProcessing drops the answer of a refresh that did rotate the token', async () => {
    const t = await tokens();
    await sbx.control.injectFailure({ endpoint: 'refresh', kind: 'drop', afterProcessing: true });
    await expect(refresh(t.refresh_token)).rejects.toThrow();
    const retry = await refresh(t.refresh_token);
    expect(retry.body.error).toBe('invalid_grant');
    expect((await sbx.control.calls({ endpoint: 'refresh' })).at(-1)).toMatchObject({ refreshTokenReused: true });
  });

  it('applies `times` and then stops; Infinity lasts until cleared', async () => {
    const t = await tokens();
    await sbx.control.injectFailure({ endpoint: 'refresh', kind: 'http_503', times: 2 });
    expect((await refresh(t.refresh_token)).status).toBe(503);
    expect((await refresh(t.refresh_token)).status).toBe(503);
    const fresh = await refresh(t.refresh_token);
    expect(fresh.status).toBe(200);

    await sbx.control.injectFailure({ endpoint: 'refresh', kind: 'http_500', times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 5; i++) expect((await refresh(fresh.body.refresh_token)).status).toBe(500);
    await sbx.control.clearFailures();
    expect((await refresh(fresh.body.refresh_token)).status).toBe(200);
  });

  it('scoped to one openId, spares other accounts', async () => {
    const ava = await tokens(AVA);
    const ben = await tokens(BEN);
    await sbx.control.injectFailure({ endpoint: 'refresh', kind: 'invalid_grant', openId: BEN });
    expect((await refresh(ava.refresh_token)).status).toBe(200);
    expect((await refresh(ben.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('fails the authorization_code grant under the "token" endpoint, without burning the code', async () => {
    const { code } = await sbx.control.mintCode({ openId: AVA, redirectUri: REDIRECT_URI });
    await sbx.control.injectFailure({ endpoint: 'token', kind: 'error_200' });
    const values = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI };
    const failed = await post('/v2/oauth/token/', values);
    expect(failed.status).toBe(200);
    expect(failed.body.error).toBe('server_error');
    expect((await post('/v2/oauth/token/', values)).status).toBe(200);
  });
});

describe('injected failures on other endpoints', () => {
  it('user info answers in its own envelope', async () => {
    const t = await tokens();
    const get = () =>
      fetch(`${sbx.url}/v2/user/info/?fields=open_id`, { headers: { authorization: `Bearer ${t.access_token}` } });
    const cases: [SandboxFailureKind, number, string][] = [
      ['http_500', 500, 'internal_error'],
      ['rate_limit', 429, 'rate_limit_exceeded'],
      ['error_200', 200, 'internal_error'],
      ['invalid_grant', 401, 'access_token_invalid'],
    ];
    for (const [kind, status, code] of cases) {
      await sbx.control.injectFailure({ endpoint: 'userinfo', kind });
      const res = await get();
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ data: {}, error: { code, log_id: expect.any(String) } });
    }
    await sbx.control.injectFailure({ endpoint: 'userinfo', kind: 'drop' });
    await expect(get()).rejects.toThrow();
    expect((await get()).status).toBe(200);
  });

  it('revoke can fail and then succeed', async () => {
    const t = await tokens();
    await sbx.control.injectFailure({ endpoint: 'revoke', kind: 'temporarily_unavailable' });
    const failed = await post('/v2/oauth/revoke/', { token: t.access_token });
    expect(failed.status).toBe(503);
    expect(failed.body.error).toBe('temporarily_unavailable');
    expect((await refresh(t.refresh_token)).status).toBe(200);
    const ok = await post('/v2/oauth/revoke/', { token: t.access_token });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');
  });

  it('authorize shows an error page for 5xx kinds and redirects back for temporarily_unavailable', async () => {
    const query = new URLSearchParams({
      client_key: sbx.clientKey,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'user.info.basic',
      state: 's1',
    });
    await sbx.control.injectFailure({ endpoint: 'authorize', kind: 'http_500' });
    const page = await fetch(`${sbx.authUrl}?${query}`, { redirect: 'manual' });
    expect(page.status).toBe(500);
    expect(await page.text()).toContain('Something went wrong');

    await sbx.control.injectFailure({ endpoint: 'authorize', kind: 'temporarily_unavailable' });
    const back = await fetch(`${sbx.authUrl}?${query}`, { redirect: 'manual' });
    expect(back.status).toBe(302);
    const location = new URL(back.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('temporarily_unavailable');
    expect(location.searchParams.get('state')).toBe('s1');

    const normal = await fetch(`${sbx.authUrl}?${query}`, { redirect: 'manual' });
    expect(normal.status).toBe(200);
  });
});
