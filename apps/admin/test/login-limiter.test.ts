// The console login limiter: wrong tokens are counted per client, and the right token always gets in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestAdmin, type TestAdmin } from './helpers.js';

const PROXY = '10.0.0.2';

function login(admin: TestAdmin, client: string, token: string) {
  return admin.app.inject({
    method: 'POST',
    url: '/console/login',
    remoteAddress: PROXY,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'same-origin',
      'x-forwarded-for': client,
    },
    payload: new URLSearchParams({ token, next: '/console' }).toString(),
  });
}

function signedIn(res: Awaited<ReturnType<typeof login>>): boolean {
  return res.statusCode === 303 && res.headers.location === '/console' && String(res.headers['set-cookie']).length > 0;
}

describe('console login limiter behind a trusted proxy', () => {
  let admin: TestAdmin;
  beforeAll(async () => {
    admin = await startTestAdmin({ trustProxy: true, loginAttemptsPerMinute: 5 });
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('refuses a guesser once its wrong tokens are used up, and still lets the right token in from anywhere', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await login(admin, '198.51.100.1', `wrong-${i}`)).statusCode);
    expect(statuses).toEqual([303, 303, 303, 303, 303, 429, 429, 429]);

    // The same address, the right token: in, though its counter is exhausted.
    expect(signedIn(await login(admin, '198.51.100.1', ADMIN_TOKEN))).toBe(true);
    // Another client: its own counter, and in.
    expect(signedIn(await login(admin, '198.51.100.2', ADMIN_TOKEN))).toBe(true);
    expect((await login(admin, '198.51.100.2', 'wrong')).statusCode).toBe(303);
    // A correct login neither counts nor resets the guesser's counter.
    expect((await login(admin, '198.51.100.1', 'wrong-again')).statusCode).toBe(429);
  });
});

describe('console login limiter behind a proxy that is not trusted (every client shares one address)', () => {
  let admin: TestAdmin;
  beforeAll(async () => {
    admin = await startTestAdmin({ trustProxy: false, loginAttemptsPerMinute: 3 });
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('never locks the right token out for everyone', async () => {
    for (let i = 0; i < 3; i++) expect((await login(admin, '198.51.100.1', `wrong-${i}`)).statusCode).toBe(303);
    expect((await login(admin, '198.51.100.7', 'wrong')).statusCode).toBe(429);
    expect(signedIn(await login(admin, '198.51.100.7', ADMIN_TOKEN))).toBe(true);
  });
});
