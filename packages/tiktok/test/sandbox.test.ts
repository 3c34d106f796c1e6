import { SANDBOX_USERS, type SandboxFailureKind, type SandboxHandle, startSandbox } from '@ttc/tiktok-sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createPkcePair,
  createTikTokClient,
  parseCallbackQuery,
  type TikTokClient,
  TikTokError,
  type TokenSet,
} from '../src/index.js';

// Integration tests against the real sandbox over HTTP (port 0, one instance for this file).
const REDIRECT_URI = 'https://app.example.com/auth/tiktok/callback';
const AVA = 'sbx-open-ava';

let sandbox: SandboxHandle;
let client: TikTokClient;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  client = createTikTokClient({
    clientKey: sandbox.clientKey,
    clientSecret: sandbox.clientSecret,
    authUrl: sandbox.authUrl,
    apiUrl: sandbox.url,
    timeoutMs: 5000,
  });
});
afterAll(async () => {
  await sandbox?.close();
});
afterEach(async () => {
  await sandbox.control.clearFailures();
});

function otherUser(index: number): string {
  const user = SANDBOX_USERS[index];
  if (!user) throw new Error(`the sandbox has no user #${index}`);
  return user.openId;
}

/** A code as if the user had clicked Authorize, plus the verifier that goes with it. */
async function mint(openId = AVA, scopes = ['user.info.basic']) {
  const pkce = createPkcePair();
  const { code } = await sandbox.control.mintCode({
    openId,
    redirectUri: REDIRECT_URI,
    scopes,
    codeChallenge: pkce.challenge,
  });
  return { code, verifier: pkce.verifier };
}

async function connect(openId = AVA, scopes = ['user.info.basic']): Promise<TokenSet> {
  const { code, verifier } = await mint(openId, scopes);
  return client.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: verifier });
}

async function failure(promise: Promise<unknown>): Promise<TikTokError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TikTokError);
  return error as TikTokError;
}

describe('code exchange', () => {
  it('exchanges a code for tokens with expiry computed from the answer', async () => {
    const before = Date.now();
    const tokens = await connect(AVA, ['user.info.basic', 'video.list']);
    const after = Date.now();
    expect(tokens.accessToken).toMatch(/^act\./);
    expect(tokens.refreshToken).toMatch(/^rft\./);
    expect(tokens).toMatchObject({
      openId: AVA,
      scopes: ['user.info.basic', 'video.list'],
      expiresIn: 7200,
      refreshExpiresIn: 15552000,
      tokenType: 'Bearer',
    });
    expect(tokens.accessTokenExpiresAt.getTime()).toBeGreaterThanOrEqual(before + 7200_000);
    expect(tokens.accessTokenExpiresAt.getTime()).toBeLessThanOrEqual(after + 7200_000);
    expect(tokens.refreshTokenExpiresAt.getTime() - tokens.accessTokenExpiresAt.getTime()).toBe(
      (15552000 - 7200) * 1000,
    );
  });

  it('uses whatever lifetimes TikTok sends instead of assuming 2 h / 180 days', async () => {
    // The lifetimes older TikTok pages documented.
    await sandbox.control.setLifetimes({ accessTokenTtlSeconds: 86400, refreshTokenTtlSeconds: 31536000 });
    try {
      const before = Date.now();
      const tokens = await connect();
      expect(tokens.expiresIn).toBe(86400);
      expect(tokens.refreshExpiresIn).toBe(31536000);
      expect(tokens.accessTokenExpiresAt.getTime() - before).toBeGreaterThanOrEqual(86400_000);
      expect(tokens.accessTokenExpiresAt.getTime() - before).toBeLessThan(86400_000 + 5000);
    } finally {
      await sandbox.control.setLifetimes({ accessTokenTtlSeconds: 7200, refreshTokenTtlSeconds: 15552000 });
    }
  });

  it('rejects a replayed code with a permanent invalid_grant', async () => {
    const { code, verifier } = await mint();
    await client.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: verifier });
    const error = await failure(client.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: verifier }));
    expect(error).toMatchObject({ code: 'TIKTOK_INVALID_GRANT', error: 'invalid_grant', status: 400, permanent: true });
    expect(error.logId).toBeTruthy();
    expect(error.message).not.toContain(code);
  });

  it('rejects a verifier that does not match the challenge', async () => {
    const { code } = await mint();
    const error = await failure(
      client.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: createPkcePair().verifier }),
    );
    expect(error).toMatchObject({ code: 'TIKTOK_INVALID_GRANT', permanent: true });
  });

  it('rejects a redirect URI other than the one used at authorize', async () => {
    const { code, verifier } = await mint();
    const error = await failure(
      client.exchangeCode({ code, redirectUri: `${REDIRECT_URI}/other`, codeVerifier: verifier }),
    );
    expect(error.code).toBe('TIKTOK_INVALID_GRANT');
  });

  it('reports a wrong client secret as a permanent invalid_client without echoing the secret', async () => {
    const wrong = createTikTokClient({
      clientKey: sandbox.clientKey,
      clientSecret: 'definitely-the-wrong-secret',
      apiUrl: sandbox.url,
    });
    const { code, verifier } = await mint();
    const error = await failure(wrong.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: verifier }));
    expect(error).toMatchObject({ code: 'TIKTOK_INVALID_CLIENT', error: 'invalid_client', permanent: true });
    expect(`${error.message} ${error.errorDescription}`).not.toContain('definitely-the-wrong-secret');
    await expect(wrong.refresh('rft.whatever')).rejects.toMatchObject({ code: 'TIKTOK_INVALID_CLIENT' });
    await expect(wrong.revoke('act.whatever')).rejects.toMatchObject({ code: 'TIKTOK_INVALID_CLIENT' });
  });
});

describe('authorize URL against the sandbox (no browser)', () => {
  async function authorizeAs(openId: string, url: URL) {
    const cookie = await sandbox.control.createSession(openId);
    return fetch(url, { redirect: 'manual', headers: { cookie: `${cookie.name}=${cookie.value}` } });
  }

  it('is accepted, shows the consent page for a live session, and its code exchanges', async () => {
    const pkce = createPkcePair();
    const url = client.buildAuthorizeUrl({
      redirectUri: REDIRECT_URI,
      scopes: ['user.info.basic', 'user.info.profile'],
      state: 'state-e2e',
      codeChallenge: pkce.challenge,
    });
    const page = await authorizeAs(AVA, url);
    // disable_auto_auth=1: the session is not reused silently.
    expect(page.status).toBe(200);
    await page.text();

    const cookie = await sandbox.control.createSession(AVA);
    const form = new URLSearchParams(url.searchParams);
    form.set('decision', 'authorize');
    form.append('granted_scope', 'user.info.profile');
    const decided = await fetch(sandbox.authUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `${cookie.name}=${cookie.value}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(decided.status).toBe(303);
    const callback = parseCallbackQuery(new URL(decided.headers.get('location') ?? ''));
    expect(callback).toMatchObject({
      kind: 'code',
      state: 'state-e2e',
      scopes: ['user.info.basic', 'user.info.profile'],
    });
    if (callback.kind !== 'code') throw new Error('expected a code');
    const tokens = await client.exchangeCode({
      code: callback.code,
      redirectUri: REDIRECT_URI,
      codeVerifier: pkce.verifier,
    });
    expect(tokens.openId).toBe(AVA);
    expect((await client.getUserInfo(tokens.accessToken, ['username'])).username).toBeTruthy();
  });

  it('with the extras turned off, a live session is reused silently (the problem the extras exist for)', async () => {
    const url = client.buildAuthorizeUrl({
      redirectUri: REDIRECT_URI,
      scopes: ['user.info.basic'],
      state: 's-silent',
      codeChallenge: createPkcePair().challenge,
      extras: { disableAutoAuth: false },
    });
    const res = await authorizeAs(AVA, url);
    expect(res.status).toBe(302);
    expect(parseCallbackQuery(new URL(res.headers.get('location') ?? ''))).toMatchObject({
      kind: 'code',
      state: 's-silent',
    });
  });
});

describe('refresh', () => {
  it('rotates the refresh token, and the old one then fails with a permanent invalid_grant', async () => {
    const first = await connect();
    const second = await client.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.openId).toBe(AVA);
    expect(second.scopes).toEqual(['user.info.basic']);
    await expect(client.getUserInfo(second.accessToken)).resolves.toMatchObject({ openId: AVA });

    const reused = await failure(client.refresh(first.refreshToken));
    expect(reused).toMatchObject({ code: 'TIKTOK_INVALID_GRANT', status: 400, permanent: true, transient: false });
    expect(reused.message).not.toContain(first.refreshToken);
    const calls = await sandbox.control.calls({ endpoint: 'refresh' });
    expect(calls.at(-1)).toMatchObject({ refreshTokenReused: true, error: 'invalid_grant' });

    // Reuse of the old token must not kill the new one.
    await expect(client.refresh(second.refreshToken)).resolves.toMatchObject({ openId: AVA });
  });

  it('fails with invalid_grant once the user was revoked at TikTok', async () => {
    const tokens = await connect(otherUser(1));
    await sandbox.control.revokeUser(tokens.openId);
    await expect(client.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'TIKTOK_INVALID_GRANT' });
  });

  it('reports an answer lost after rotation as transient, after which the old token is dead', async () => {
    const tokens = await connect();
    await sandbox.control.injectFailure({ endpoint: 'refresh', kind: 'http_500', openId: AVA, afterProcessing: true });
    await expect(client.refresh(tokens.refreshToken)).rejects.toMatchObject({
      code: 'TIKTOK_SERVER_ERROR',
      transient: true,
    });
    await expect(client.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'TIKTOK_INVALID_GRANT' });
  });
});

describe('revoke', () => {
  it('revokes: the access token stops working and so does the refresh token', async () => {
    const tokens = await connect(otherUser(2));
    await expect(client.revoke(tokens.accessToken)).resolves.toBeUndefined();
    const error = await failure(client.getUserInfo(tokens.accessToken));
    expect(error).toMatchObject({
      code: 'TIKTOK_ACCESS_TOKEN_INVALID',
      error: 'access_token_invalid',
      status: 401,
      permanent: true,
    });
    await expect(client.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'TIKTOK_INVALID_GRANT' });
  });

  it('is idempotent: revoking again succeeds', async () => {
    const tokens = await connect(otherUser(2));
    await client.revoke(tokens.accessToken);
    await expect(client.revoke(tokens.accessToken)).resolves.toBeUndefined();
  });
});

describe('user info', () => {
  it('reads the default fields and not username', async () => {
    const tokens = await connect();
    const expected = SANDBOX_USERS.find((u) => u.openId === AVA);
    const user = await client.getUserInfo(tokens.accessToken);
    expect(user).toEqual({
      openId: AVA,
      unionId: expected?.unionId,
      displayName: expected?.displayName,
      avatarUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/avatars\//),
    });
  });

  it('reads username when asked and user.info.profile was granted', async () => {
    const tokens = await connect(AVA, ['user.info.basic', 'user.info.profile']);
    const user = await client.getUserInfo(tokens.accessToken, ['open_id', 'display_name', 'username', 'is_verified']);
    expect(user.username).toBe(SANDBOX_USERS.find((u) => u.openId === AVA)?.username);
    expect(typeof user.isVerified).toBe('boolean');
  });

  it('reports username without user.info.profile as a permanent scope_not_authorized', async () => {
    const tokens = await connect(AVA, ['user.info.basic']);
    const error = await failure(client.getUserInfo(tokens.accessToken, ['username']));
    expect(error).toMatchObject({
      code: 'TIKTOK_SCOPE_NOT_AUTHORIZED',
      error: 'scope_not_authorized',
      status: 401,
      permanent: true,
    });
    expect(error.message).not.toContain(tokens.accessToken);
  });

  it('reports an unknown token as access_token_invalid', async () => {
    await expect(client.getUserInfo('act.not-a-real-token')).rejects.toMatchObject({
      code: 'TIKTOK_ACCESS_TOKEN_INVALID',
      permanent: true,
    });
  });
});

describe('injected failures', () => {
  type Endpoint = 'token' | 'refresh' | 'revoke' | 'userinfo';
  const oauthExpectations: [SandboxFailureKind, string, number, boolean][] = [
    ['http_500', 'TIKTOK_SERVER_ERROR', 500, true],
    ['http_503', 'TIKTOK_SERVER_ERROR', 503, true],
    ['rate_limit', 'TIKTOK_RATE_LIMITED', 429, true],
    ['temporarily_unavailable', 'TIKTOK_TEMPORARILY_UNAVAILABLE', 503, true],
    ['error_200', 'TIKTOK_SERVER_ERROR', 200, true],
    ['invalid_grant', 'TIKTOK_INVALID_GRANT', 400, false],
  ];
  const userInfoExpectations: [SandboxFailureKind, string, number, boolean][] = [
    ['http_500', 'TIKTOK_SERVER_ERROR', 500, true],
    ['http_503', 'TIKTOK_SERVER_ERROR', 503, true],
    ['rate_limit', 'TIKTOK_RATE_LIMITED', 429, true],
    ['temporarily_unavailable', 'TIKTOK_SERVER_ERROR', 503, true],
    ['error_200', 'TIKTOK_SERVER_ERROR', 200, true],
    ['invalid_grant', 'TIKTOK_ACCESS_TOKEN_INVALID', 401, false],
  ];

  /** Runs one call of `endpoint` for a fresh account, so every case starts from valid credentials. */
  async function callFor(endpoint: Endpoint, openId: string, opts: { timeoutMs?: number } = {}) {
    if (endpoint === 'token') {
      const { code, verifier } = await mint(openId);
      return () => client.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: verifier }, opts);
    }
    const tokens = await connect(openId);
    if (endpoint === 'refresh') return () => client.refresh(tokens.refreshToken, opts);
    if (endpoint === 'revoke') return () => client.revoke(tokens.accessToken, opts);
    return () => client.getUserInfo(tokens.accessToken, undefined, opts);
  }

  const cases = (['token', 'refresh', 'revoke', 'userinfo'] as const).flatMap((endpoint) =>
    (endpoint === 'userinfo' ? userInfoExpectations : oauthExpectations).map(
      ([kind, code, status, transient]) => [endpoint, kind, code, status, transient] as const,
    ),
  );

  it.each(cases)('%s / %s → %s (HTTP %i, transient %s)', async (endpoint, kind, code, status, transient) => {
    const openId = otherUser(3);
    const call = await callFor(endpoint, openId);
    await sandbox.control.injectFailure({ endpoint, kind, openId });
    const error = await failure(call());
    expect(error).toMatchObject({ code, status, transient, permanent: !transient });
    expect(error.logId).toBeTruthy();
    if (kind === 'rate_limit') expect(error.retryAfterSeconds).toBe(1);
  });

  it.each(['token', 'refresh', 'revoke', 'userinfo'] as const)(
    '%s / drop → transient TIKTOK_NETWORK_ERROR',
    async (endpoint) => {
      const openId = otherUser(4);
      const call = await callFor(endpoint, openId);
      await sandbox.control.injectFailure({ endpoint, kind: 'drop', openId });
      const error = await failure(call());
      expect(error).toMatchObject({ code: 'TIKTOK_NETWORK_ERROR', transient: true, status: undefined });
    },
  );

  // The point of "transient": the failed call changed nothing at TikTok, so retrying the very same call works
  // (the same code is still unused, the same refresh token still active).
  it.each([
    ['token', 'http_500'],
    ['token', 'drop'],
    ['refresh', 'rate_limit'],
    ['refresh', 'drop'],
    ['userinfo', 'temporarily_unavailable'],
  ] as const)('%s: retrying the same call after %s succeeds', async (endpoint, kind) => {
    const openId = otherUser(3);
    const call = await callFor(endpoint, openId);
    await sandbox.control.injectFailure({ endpoint, kind, openId });
    expect((await failure(call())).transient).toBe(true);
    await expect(call()).resolves.toBeDefined();
  });

  it.each(['token', 'refresh', 'revoke', 'userinfo'] as const)(
    '%s / latency beyond timeoutMs → TIKTOK_TIMEOUT close to the deadline',
    async (endpoint) => {
      const openId = otherUser(4);
      const call = await callFor(endpoint, openId, { timeoutMs: 250 });
      await sandbox.control.injectFailure({ endpoint, kind: 'latency', latencyMs: 1500, openId });
      const started = performance.now();
      const error = await failure(call());
      const elapsed = performance.now() - started;
      expect(error).toMatchObject({ code: 'TIKTOK_TIMEOUT', transient: true });
      expect(elapsed).toBeGreaterThanOrEqual(240);
      expect(elapsed).toBeLessThan(1200);
    },
  );

  it('latency within timeoutMs is only slower', async () => {
    const call = await callFor('userinfo', AVA, { timeoutMs: 2000 });
    await sandbox.control.injectFailure({ endpoint: 'userinfo', kind: 'latency', latencyMs: 200, openId: AVA });
    await expect(call()).resolves.toMatchObject({ openId: AVA });
  });
});
