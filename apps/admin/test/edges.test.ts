// The admin's HTTP edges against hostile clients: slow requests, asset names, sessions after logout, proxies.
import type { AddressInfo } from 'node:net';
import { sendPartialRequest } from '@ttc/testing';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestAdmin } from './helpers.js';

describe('request timeout', () => {
  it('answers 408 to a request whose body never completes', async () => {
    const admin = await startTestAdmin({ requestTimeoutMs: 300 });
    try {
      await admin.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = admin.app.server.address() as AddressInfo;
      expect(
        await sendPartialRequest(`http://127.0.0.1:${port}`, {
          path: '/graphql',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        }),
      ).toEqual({ status: 408 });
    } finally {
      await admin.close();
    }
  });
});

describe('console assets', () => {
  it('answers 404 to names of Object.prototype members, never 500', async () => {
    const admin = await startTestAdmin();
    try {
      for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
        const res = await admin.app.inject(`/console/assets/${name}`);
        expect({ name, status: res.statusCode, body: res.json() }).toEqual({
          name,
          status: 404,
          body: { error: { code: 'NOT_FOUND', message: expect.any(String) } },
        });
      }
      expect((await admin.app.inject('/console/assets/console.css')).statusCode).toBe(200);
    } finally {
      await admin.close();
    }
  });
});

describe('TRUST_PROXY', () => {
  /** `x-ratelimit-remaining` of a wrong console login from each client behind a proxy at 10.0.0.2. */
  async function remainingFor(trustProxy: boolean, clients: string[]): Promise<number[]> {
    const admin = await startTestAdmin({ trustProxy, loginAttemptsPerMinute: 10 });
    try {
      const remaining: number[] = [];
      for (const client of clients) {
        const res = await admin.app.inject({
          method: 'POST',
          url: '/console/login',
          remoteAddress: '10.0.0.2',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'sec-fetch-site': 'same-origin',
            'x-forwarded-for': client,
          },
          payload: 'token=wrong',
        });
        remaining.push(Number(res.headers['x-ratelimit-remaining']));
      }
      expect(remaining[0]).toBe(9);
      return remaining;
    } finally {
      await admin.close();
    }
  }

  it('gives two clients behind a trusted proxy two login-limit buckets', async () => {
    expect(await remainingFor(true, ['198.51.100.1', '198.51.100.1', '198.51.100.2'])).toEqual([9, 8, 9]);
  });

  it('puts every client behind an untrusted proxy in one bucket', async () => {
    expect(await remainingFor(false, ['198.51.100.1', '198.51.100.1', '198.51.100.2'])).toEqual([9, 8, 7]);
  });
});
