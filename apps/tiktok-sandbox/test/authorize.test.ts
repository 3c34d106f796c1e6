import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_SESSION_COOKIE, SANDBOX_USERS } from '../src/index.js';
import {
  AVA,
  authorizeQuery,
  BEN,
  exchange,
  FORM,
  form,
  hiddenFields,
  loginAs,
  REDIRECT_URI,
  sandbox,
  sessionCookie,
  type TestSandbox,
} from './helpers.js';

let s: TestSandbox;
beforeEach(async () => {
  s = await sandbox();
});
afterEach(async () => {
  await s.app.close();
});

function callbackParams(location: string | undefined): URLSearchParams {
  expect(location).toBeDefined();
  const url = new URL(location ?? '');
  expect(`${url.origin}${url.pathname}`).toBe(REDIRECT_URI);
  return url.searchParams;
}

describe('authorize without a session', () => {
  it('shows the login page with one button per sandbox user', async () => {
    const res = await s.app.inject({ method: 'GET', url: `/v2/auth/authorize/?${authorizeQuery()}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('<html lang="en">');
    for (const user of SANDBOX_USERS) {
      const escaped = user.displayName.replaceAll('&', '&amp;');
      expect(res.body).toContain(`Log in as ${escaped}</span></button>`);
    }
    expect(res.body).not.toContain('Authorize</button>');
  });

  it('logs in with an HttpOnly session cookie and goes on to the consent page with the same parameters', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/v2/auth/login/',
      headers: FORM,
      payload: `${authorizeQuery()}&open_id=${AVA}`,
    });
    expect(res.statusCode).toBe(303);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toContain(`${SANDBOX_SESSION_COOKIE}=`);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    const next = new URL(res.headers.location ?? '', 'http://sandbox');
    expect(next.pathname).toBe('/v2/auth/authorize/');
    expect(next.searchParams.get('disable_auto_auth')).toBe('1');
    expect(next.searchParams.get('state')).toBe('st-123');
    expect(next.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);

    const consent = await s.app.inject({
      method: 'GET',
      url: res.headers.location ?? '',
      headers: { cookie: sessionCookie(res) },
    });
    expect(consent.statusCode).toBe(200);
    expect(consent.body).toContain('Ava Martin');
    expect(consent.body).toContain('>Authorize</button>');
  });

  it('refuses to log in as an account that does not exist', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/v2/auth/login/',
      headers: FORM,
      payload: `${authorizeQuery()}&open_id=sbx-open-nobody`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('authorize with a live session (the problem this project exists for)', () => {
  it('redirects straight back with a code for the logged-in account and shows nothing', async () => {
    const cookie = await loginAs(s.app, AVA);
    const res = await s.app.inject({
      method: 'GET',
      url: `/v2/auth/authorize/?${authorizeQuery({ prompt: 'select_account', force_authentication: 'true' })}`,
      headers: { cookie },
    });
    expect(res.statusCode).toBe(302);
    expect(res.body).toBe('');
    const params = callbackParams(res.headers.location);
    expect(params.get('state')).toBe('st-123');
    expect(params.get('scopes')).toBe('user.info.basic,video.list');
    const code = params.get('code') ?? '';
    const tokens = await exchange(s.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    expect(tokens.body.open_id).toBe(AVA);
    const calls = await s.control.calls({ endpoint: 'authorize' });
    expect(calls.at(-1)).toMatchObject({ status: 302, openId: AVA, authorizeOutcome: 'silent_redirect' });
  });

  it('also reuses the session with disable_auto_auth=0', async () => {
    const cookie = await loginAs(s.app, AVA);
    const res = await s.app.inject({
      method: 'GET',
      url: `/v2/auth/authorize/?${authorizeQuery({ disable_auto_auth: '0' })}`,
      headers: { cookie },
    });
    expect(res.statusCode).toBe(302);
  });

  it('shows the consent page with disable_auto_auth=1', async () => {
    const cookie = await loginAs(s.app, AVA);
    const res = await s.app.inject({
      method: 'GET',
      url: `/v2/auth/authorize/?${authorizeQuery({ disable_auto_auth: '1', scope: 'user.info.basic,user.info.profile,video.list' })}`,
      headers: { cookie },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('>Authorize</button>');
    expect(res.body).toContain('>Cancel</button>');
    expect(res.body).toContain('>Use another account</button>');
    expect(res.body).toContain('Ava Martin');
    expect(res.body).toContain('src="/avatars/sbx-open-ava.svg"');
    // The mandatory scope cannot be unticked; the others can.
    expect(res.body).toMatch(/<input type="checkbox" id="scope-0" checked disabled>/);
    expect(res.body).toContain('name="granted_scope" value="user.info.profile" checked');
    expect(res.body).toContain('name="granted_scope" value="video.list" checked');
  });

  it('ignores a stale session cookie from another sandbox instance and shows the login page', async () => {
    const res = await s.app.inject({
      method: 'GET',
      url: `/v2/auth/authorize/?${authorizeQuery()}`,
      headers: { cookie: `${SANDBOX_SESSION_COOKIE}=not-a-session` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Log in as Ava Martin');
  });
});

describe('consent decisions', () => {
  async function consentForm(cookie: string, overrides: Record<string, string | undefined> = {}) {
    const res = await s.app.inject({
      method: 'GET',
      url: `/v2/auth/authorize/?${authorizeQuery({ disable_auto_auth: '1', ...overrides })}`,
      headers: { cookie },
    });
    expect(res.statusCode).toBe(200);
    return { html: res.body, hidden: hiddenFields(res.body.split('<form method="get"')[0] ?? '') };
  }

  it('Authorize grants only the scopes left ticked, always including user.info.basic', async () => {
    const cookie = await loginAs(s.app, AVA);
    const { hidden } = await consentForm(cookie, { scope: 'user.info.basic,user.info.profile,video.list' });
    const res = await s.app.inject({
      method: 'POST',
      url: '/v2/auth/authorize/',
      headers: { ...FORM, cookie },
      payload: form({ ...hidden, granted_scope: ['video.list'], decision: 'authorize' }),
    });
    expect(res.statusCode).toBe(303);
    const params = callbackParams(res.headers.location);
    expect(params.get('scopes')).toBe('user.info.basic,video.list');
    expect(params.get('state')).toBe('st-123');
    const tokens = await exchange(s.app, {
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
    });
    expect(tokens.body.scope).toBe('user.info.basic,video.list');
  });

  it('Cancel redirects back with access_denied and the state', async () => {
    const cookie = await loginAs(s.app, AVA);
    const { hidden } = await consentForm(cookie);
    const res = await s.app.inject({
      method: 'POST',
      url: '/v2/auth/authorize/',
      headers: { ...FORM, cookie },
      payload: form({ ...hidden, decision: 'cancel' }),
    });
    expect(res.statusCode).toBe(303);
    const params = callbackParams(res.headers.location);
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('error_description')).toBeTruthy();
    expect(params.get('state')).toBe('st-123');
    expect(params.get('code')).toBeNull();
    const calls = await s.control.calls({ endpoint: 'authorize' });
    expect(calls.at(-1)).toMatchObject({ openId: AVA, error: 'access_denied', authorizeOutcome: 'denied' });
  });

  it('"Use another account" leads through the login page to a code for the other user', async () => {
    const cookie = await loginAs(s.app, AVA);
    const { html } = await consentForm(cookie);
    const switchForm = `<form method="get"${html.split('<form method="get"')[1] ?? ''}`;
    expect(switchForm).toContain('action="/v2/auth/login/"');
    const login = await s.app.inject({
      method: 'GET',
      url: `/v2/auth/login/?${new URLSearchParams(hiddenFields(switchForm)).toString()}`,
      headers: { cookie },
    });
    expect(login.statusCode).toBe(200);
    expect(login.body).toContain('Currently logged in as Ava Martin');
    expect(login.body).toContain('Log in as Ben Okafor');

    const loggedIn = await s.app.inject({
      method: 'POST',
      url: '/v2/auth/login/',
      headers: { ...FORM, cookie },
      payload: form({ ...hiddenFields(login.body), open_id: BEN }),
    });
    expect(loggedIn.statusCode).toBe(303);
    const benCookie = sessionCookie(loggedIn);
    const consent = await s.app.inject({
      method: 'GET',
      url: loggedIn.headers.location ?? '',
      headers: { cookie: benCookie },
    });
    expect(consent.body).toContain('Ben Okafor');
    const res = await s.app.inject({
      method: 'POST',
      url: '/v2/auth/authorize/',
      headers: { ...FORM, cookie: benCookie },
      payload: form({ ...hiddenFields(consent.body.split('<form method="get"')[0] ?? ''), decision: 'authorize' }),
    });
    const params = callbackParams(res.headers.location);
    expect(params.get('state')).toBe('st-123');
    const tokens = await exchange(s.app, {
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
    });
    expect(tokens.body.open_id).toBe(BEN);

    // The old session is gone: the switch replaced it.
    const old = await s.app.inject({
      method: 'GET',
      url: `/v2/auth/authorize/?${authorizeQuery()}`,
      headers: { cookie },
    });
    expect(old.statusCode).toBe(200);
    expect(old.body).toContain('Log in to TikTok');
  });

  it('carries hostile parameter values through the forms escaped and intact', async () => {
    const hostile = `"><script>alert(1)</script>&x='`;
    const cookie = await loginAs(s.app, AVA);
    const { html, hidden } = await consentForm(cookie, { state: hostile });
    expect(html).not.toContain('<script>');
    expect(hidden.state).toBe(hostile);
  });
});

describe('authorize parameter validation', () => {
  it.each([
    ['an unknown client_key', { client_key: 'someone_else' }, 'client_key'],
    ['a missing client_key', { client_key: undefined }, 'client_key'],
    ['response_type other than code', { response_type: 'token' }, 'response_type'],
    ['a relative redirect_uri', { redirect_uri: '/callback' }, 'redirect_uri'],
    ['a redirect_uri with a fragment', { redirect_uri: `${REDIRECT_URI}#x` }, 'redirect_uri'],
    ['a non-http redirect_uri', { redirect_uri: 'ftp://app.example.test/cb' }, 'redirect_uri'],
    ['an empty scope', { scope: '' }, 'scope'],
    [
      'a PKCE method other than S256',
      { code_challenge: 'abc', code_challenge_method: 'plain' },
      'code_challenge_method',
    ],
  ])('shows the error page with HTTP 400 for %s', async (_name, overrides, problem) => {
    const res = await s.app.inject({ method: 'GET', url: `/v2/auth/authorize/?${authorizeQuery(overrides)}` });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Something went wrong');
    expect(res.body).toContain("If you're a developer, correct the following and try again:");
    expect(res.body).toContain(`<li>${problem}</li>`);
    expect(res.headers.location).toBeUndefined();
  });

  it('requires an exact match with a registered redirect URI when some are configured', async () => {
    const strict = await sandbox({ redirectUris: [REDIRECT_URI] });
    try {
      const bad = await strict.app.inject({
        method: 'GET',
        url: `/v2/auth/authorize/?${authorizeQuery({ redirect_uri: `${REDIRECT_URI}/` })}`,
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toContain('<li>redirect_uri</li>');
      const good = await strict.app.inject({ method: 'GET', url: `/v2/auth/authorize/?${authorizeQuery()}` });
      expect(good.statusCode).toBe(200);
    } finally {
      await strict.app.close();
    }
  });

  it('passes a redirect URI with a query string through and appends to it', async () => {
    const cookie = await loginAs(s.app, AVA);
    const res = await s.app.inject({
      method: 'GET',
      url: `/v2/auth/authorize/?${authorizeQuery({ redirect_uri: `${REDIRECT_URI}?tenant=a` })}`,
      headers: { cookie },
    });
    const url = new URL(res.headers.location ?? '');
    expect(url.searchParams.get('tenant')).toBe('a');
    expect(url.searchParams.get('code')).toBeTruthy();
  });
});

describe('avatars', () => {
  it('serves an SVG avatar for every user and 404 for others', async () => {
    for (const user of SANDBOX_USERS) {
      const res = await s.app.inject({ method: 'GET', url: user.avatarUrl });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('image/svg+xml');
      expect(res.body).toContain('<svg');
    }
    expect((await s.app.inject({ method: 'GET', url: '/avatars/sbx-open-nobody.svg' })).statusCode).toBe(404);
  });
});
