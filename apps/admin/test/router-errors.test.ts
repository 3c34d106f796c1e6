import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAdmin, type TestAdmin } from './helpers.js';

describe('errors raised while routing', () => {
  let admin: TestAdmin;
  beforeAll(async () => {
    admin = await startTestAdmin();
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('answers an undecodable URL with 400 BAD_REQUEST in the API shape, without echoing the path', async () => {
    const res = await admin.app.inject({ method: 'GET', url: '/console/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'BAD_REQUEST', message: 'The request URL is not valid.' } });
    expect(res.body).not.toContain('%E0');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});
