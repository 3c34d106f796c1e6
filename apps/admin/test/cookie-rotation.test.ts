// COOKIE_SECRET rotation for the console session: the first secret seals, every listed one opens.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminAuthenticator, SESSION_COOKIE } from '../src/plugins/auth.js';
import { ADMIN_TOKEN, COOKIE_SECRET, startTestAdmin, type TestAdmin } from './helpers.js';

const NEW_SECRET = randomBytes(32).toString('base64url');
let before: TestAdmin;
let rotated: TestAdmin;

beforeAll(async () => {
  before = await startTestAdmin();
  rotated = await startTestAdmin({ cookieSecrets: [NEW_SECRET, COOKIE_SECRET] });
});
afterAll(async () => {
  await Promise.all([before?.close(), rotated?.close()]);
});

async function signIn(admin: TestAdmin): Promise<string> {
  const res = await admin.app.inject({
    method: 'POST',
    url: '/console/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    payload: new URLSearchParams({ token: ADMIN_TOKEN, next: '/console' }).toString(),
  });
  expect(res.statusCode).toBe(303);
  return String(res.headers['set-cookie']).split(';')[0] ?? '';
}

const consoleWith = (admin: TestAdmin, cookie: string) =>
  admin.app.inject({ method: 'GET', url: '/console', headers: { cookie } });

function authenticator(admin: TestAdmin, secrets: string[]) {
  return new AdminAuthenticator({
    tokens: [ADMIN_TOKEN],
    cookieSecret: secrets,
    secureCookie: false,
    revocations: { redis: admin.redis, keyPrefix: admin.prefix },
  });
}

describe('console session across a COOKIE_SECRET rotation', () => {
  it('keeps a session signed in before the rotation, and seals new ones with the new secret', async () => {
    const old = await signIn(before);
    expect((await consoleWith(before, old)).statusCode).toBe(200);
    // After `COOKIE_SECRET=<new>,<old>`: the old cookie still opens.
    expect((await consoleWith(rotated, old)).statusCode).toBe(200);

    const fresh = await signIn(rotated);
    const value = fresh.slice(`${SESSION_COOKIE}=`.length);
    expect(await authenticator(rotated, [NEW_SECRET]).readSession(value)).not.toBeNull();
    expect(await authenticator(rotated, [COOKIE_SECRET]).readSession(value)).toBeNull();
    // The old secret's instance cannot read it; once the old secret is dropped, the old cookie is refused.
    expect((await consoleWith(before, fresh)).statusCode).toBe(303);
    const oldValue = old.slice(`${SESSION_COOKIE}=`.length);
    expect(await authenticator(rotated, [NEW_SECRET]).readSession(oldValue)).toBeNull();
  });
});
