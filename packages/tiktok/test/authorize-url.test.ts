import { describe, expect, it } from 'vitest';
import { createPkcePair, createTikTokClient, DEFAULT_AUTH_URL, TikTokErrorCode } from '../src/index.js';

const { challenge } = createPkcePair();
const params = {
  redirectUri: 'https://app.example.com/auth/tiktok/callback',
  scopes: ['user.info.basic', 'video.list', 'video.publish'],
  state: 'st-123',
  codeChallenge: challenge,
};
const client = createTikTokClient({ clientKey: 'ck_test', clientSecret: 'cs_test_secret' });

describe('buildAuthorizeUrl', () => {
  it('carries every parameter TikTok and the product need', () => {
    const url = client.buildAuthorizeUrl(params);
    expect(`${url.origin}${url.pathname}`).toBe(DEFAULT_AUTH_URL);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_key: 'ck_test',
      redirect_uri: 'https://app.example.com/auth/tiktok/callback',
      response_type: 'code',
      scope: 'user.info.basic,video.list,video.publish',
      state: 'st-123',
      disable_auto_auth: '1',
      prompt: 'select_account',
      force_authentication: 'true',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
  });

  it('never puts the client secret in the URL', () => {
    expect(client.buildAuthorizeUrl(params).toString()).not.toContain('cs_test_secret');
  });

  it('sends the redirect URI unchanged, even when URL parsing would normalise it', () => {
    const redirectUri = 'HTTPS://App.Example.com:443/cb';
    expect(client.buildAuthorizeUrl({ ...params, redirectUri }).searchParams.get('redirect_uri')).toBe(redirectUri);
  });

  it('can turn the extras off for the whole client', () => {
    const plain = createTikTokClient({
      clientKey: 'ck',
      clientSecret: 'cs',
      authorizeExtras: { disableAutoAuth: false, promptSelectAccount: false, forceAuthentication: false },
    });
    const q = plain.buildAuthorizeUrl(params).searchParams;
    expect(q.get('disable_auto_auth')).toBe('0');
    expect(q.has('prompt')).toBe(false);
    expect(q.has('force_authentication')).toBe(false);
  });

  it('can turn one extra off for one URL and keeps the others on', () => {
    const q = client.buildAuthorizeUrl({ ...params, extras: { promptSelectAccount: false } }).searchParams;
    expect(q.get('disable_auto_auth')).toBe('1');
    expect(q.has('prompt')).toBe(false);
    expect(q.get('force_authentication')).toBe('true');
  });

  it('uses a custom authorize URL (the sandbox) and keeps its path', () => {
    const sbx = createTikTokClient({
      clientKey: 'ck',
      clientSecret: 'cs',
      authUrl: 'http://127.0.0.1:4000/v2/auth/authorize/',
    });
    const url = sbx.buildAuthorizeUrl(params);
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:4000/v2/auth/authorize/');
  });

  it('joins scopes with commas and drops duplicates', () => {
    const q = client.buildAuthorizeUrl({
      ...params,
      scopes: ['user.info.basic', 'user.info.basic', 'user.info.profile'],
    }).searchParams;
    expect(q.get('scope')).toBe('user.info.basic,user.info.profile');
  });

  it.each([
    ['a base64url challenge', { codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' }],
    ['an uppercase hex challenge', { codeChallenge: challenge.toUpperCase() }],
    ['no scopes', { scopes: [] }],
    ['a scope with a comma', { scopes: ['a,b'] }],
    ['an empty state', { state: '' }],
    ['a relative redirect URI', { redirectUri: '/callback' }],
    ['a redirect URI with a fragment', { redirectUri: 'https://a.example/cb#x' }],
    ['a non-http redirect URI', { redirectUri: 'javascript:alert(1)' }],
  ])('refuses %s', (_label, override) => {
    expect(() => client.buildAuthorizeUrl({ ...params, ...override })).toThrow(
      expect.objectContaining({ code: TikTokErrorCode.INVALID_ARGUMENT }),
    );
  });
});

describe('createTikTokClient options', () => {
  it.each([
    ['an empty client key', { clientKey: '', clientSecret: 'cs' }],
    ['a missing secret', { clientKey: 'ck' }],
    ['a non-URL authUrl', { clientKey: 'ck', clientSecret: 'cs', authUrl: 'not a url' }],
    ['a non-http apiUrl', { clientKey: 'ck', clientSecret: 'cs', apiUrl: 'ftp://x.example' }],
    ['a zero timeout', { clientKey: 'ck', clientSecret: 'cs', timeoutMs: 0 }],
    ['a non-function fetch', { clientKey: 'ck', clientSecret: 'cs', fetch: 'nope' }],
  ])('refuses %s at creation', (_label, options) => {
    expect(() => createTikTokClient(options as never)).toThrow(
      expect.objectContaining({ code: TikTokErrorCode.INVALID_OPTIONS }),
    );
  });

  it('never echoes the secret in an options error', () => {
    try {
      createTikTokClient({ clientKey: 'ck', clientSecret: 'super-secret-value', timeoutMs: -1 });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain('super-secret-value');
      expect(String(error)).toContain('timeoutMs');
    }
  });

  it('builds endpoint URLs from the API base, keeping a path prefix', () => {
    const c = createTikTokClient({ clientKey: 'ck', clientSecret: 'cs', apiUrl: 'https://proxy.example/tiktok/' });
    expect(c.endpoints).toEqual({
      authorize: DEFAULT_AUTH_URL,
      token: 'https://proxy.example/tiktok/v2/oauth/token/',
      revoke: 'https://proxy.example/tiktok/v2/oauth/revoke/',
      userInfo: 'https://proxy.example/tiktok/v2/user/info/',
    });
  });
});
