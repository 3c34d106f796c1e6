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
