import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, RETURN_TO, startHarness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

const auth = { authorization: `Bearer ${API_KEY}` };

describe('bad input the router refuses before any route runs', () => {
  it('answers an undecodable URL with 400 in the catalogue shape, with security headers and without echoing it', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/accounts/%E0%A4%A/access-token', headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'GW_BAD_REQUEST', message: expect.any(String) } });
    expect(res.body).not.toContain('%E0');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers an undecodable connect link with an HTML error page, not a JSON echo of the link', async () => {
    const res = await h.app.inject({
      method: 'GET',
      url: `/connect/cs_${'a'.repeat(43)}%`,
      headers: { accept: 'text/html' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).not.toContain(`cs_${'a'.repeat(43)}`);
    expect(res.headers['content-security-policy']).toBeDefined();
  });

  it('answers an account id longer than any route parameter with 404 in the catalogue shape', async () => {
    const res = await h.app.inject({
      method: 'GET',
      url: `/v1/accounts/${'a'.repeat(4000)}/access-token`,
      headers: auth,
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'GW_NOT_FOUND', message: expect.any(String) } });
    expect(res.body).not.toContain('a'.repeat(300));
    // Up to the router's limit (a percent-encoded 255-character user id) an id is judged by its route: 404 too.
    const long = await h.app.inject({
      method: 'GET',
      url: `/v1/accounts/${'a'.repeat(300)}/access-token`,
      headers: auth,
    });
    expect(long.json().error.code).toBe('GW_ACCOUNT_NOT_FOUND');
  });
});

describe('POST /v1/connect-sessions with user ids that are not valid Unicode', () => {
  it('refuses a lone surrogate with 400 GW_VALIDATION: stored as UTF-8 it would merge with other user ids', async () => {
    for (const userId of ['user-\ud800', 'user-\udfff', '\udc00']) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/connect-sessions',
        headers: auth,
        payload: { userId, returnTo: RETURN_TO },
      });
      expect(res.statusCode, JSON.stringify(userId)).toBe(400);
      expect(res.json().error.code).toBe('GW_VALIDATION');
    }
  });

  it('still accepts astral characters (surrogate pairs) in a user id', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/connect-sessions',
      headers: auth,
      payload: { userId: 'user-😀-ok', returnTo: RETURN_TO },
    });
    expect(res.statusCode).toBe(201);
  });
});
