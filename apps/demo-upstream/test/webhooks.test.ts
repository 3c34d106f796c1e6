// The demo's webhook receiver against the gateway's own signer (@ttc/webhooks): what it accepts, what it refuses.
import { randomBytes, randomUUID } from 'node:crypto';
import { signatureHeader } from '@ttc/webhooks';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoApp } from '../src/app.js';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildDemoApp({
    gatewayUrl: 'http://127.0.0.1:9', // never called here
    apiKey: () => 'unused',
    publicUrl: 'http://localhost:5173',
    userId: 'demo-user',
    webhookSecret: secret,
  });
});
afterAll(async () => {
  await app?.close();
});

function deliver(o: { id?: string; body?: string; secrets?: string[]; timestamp?: number; signedBody?: string }) {
  const id = o.id ?? `msg_${randomUUID()}`;
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const body =
    o.body ??
    JSON.stringify({ type: 'account.connected', timestamp: new Date().toISOString(), data: { displayName: 'Ava' } });
  return app.inject({
    method: 'POST',
    url: '/webhooks',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(o.secrets ?? [secret], id, timestamp, o.signedBody ?? body),
    },
    payload: body,
  });
}

describe('the demo app receiving webhooks', () => {
  it('accepts a delivery signed by the gateway (also during a secret rotation), once per webhook-id', async () => {
    const id = `msg_${randomUUID()}`;
    expect((await deliver({ id })).statusCode).toBe(204);
    expect((await deliver({ id })).statusCode).toBe(204); // a retry
    const rotated = `whsec_${randomBytes(32).toString('base64')}`;
    expect((await deliver({ secrets: [rotated, secret] })).statusCode).toBe(204);
    const page = await app.inject('/'); // the page lists them
    expect(page.statusCode).toBe(200);
    expect(page.body.match(/data-webhook-type="account.connected"/g)).toHaveLength(2);
  });

  it('refuses another secret, a changed body and a stale timestamp', async () => {
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    expect((await deliver({ secrets: [other] })).statusCode).toBe(400);
    expect((await deliver({ signedBody: '{"type":"account.disconnected"}' })).statusCode).toBe(400);
    expect((await deliver({ timestamp: Math.floor(Date.now() / 1000) - 3600 })).statusCode).toBe(400);
  });
});
