import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPkcePair, createTikTokClient, type TikTokError } from '../src/index.js';

// A bare HTTP server (port 0) that records what the client sends and answers as each test says. It checks the
// wire format precisely; TikTok's behaviour itself is tested against the sandbox in sandbox.test.ts.
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base: string;
let seen: Seen[] = [];
let handler: Handler = (_req, res) => res.end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
});

const sendJson =
  (status: number, body: unknown): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
const tokens = {
  access_token: 'act.A',
  refresh_token: 'rft.R',
  open_id: 'o1',
  expires_in: 86400,
  refresh_expires_in: 31536000,
  scope: 'user.info.basic',
  token_type: 'Bearer',
};

function client(timeoutMs = 2000) {
  return createTikTokClient({ clientKey: 'ck_1', clientSecret: 'cs_secret_1', apiUrl: base, timeoutMs });
}

describe('wire format', () => {
  it('posts the code exchange form-encoded with Cache-Control: no-cache', async () => {
    handler = sendJson(200, tokens);
    const { verifier } = createPkcePair();
    await client().exchangeCode({ code: 'C0DE*!', redirectUri: 'https://a.example/cb', codeVerifier: verifier });
    const [req] = seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v2/oauth/token/');
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req?.headers['cache-control']).toBe('no-cache');
    expect(Object.fromEntries(new URLSearchParams(req?.body))).toEqual({
      client_key: 'ck_1',
      client_secret: 'cs_secret_1',
      code: 'C0DE*!',
      grant_type: 'authorization_code',
      redirect_uri: 'https://a.example/cb',
      code_verifier: verifier,
    });
  });

  it('posts the refresh grant', async () => {
    handler = sendJson(200, tokens);
    await client().refresh('rft.old');
    expect(seen[0]?.headers['cache-control']).toBe('no-cache');
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      client_key: 'ck_1',
      client_secret: 'cs_secret_1',
      grant_type: 'refresh_token',
      refresh_token: 'rft.old',
    });
  });

  it('posts the revocation with the access token', async () => {
    handler = (_req, res) => res.writeHead(200).end();
    await client().revoke('act.bye');
    expect(seen[0]?.url).toBe('/v2/oauth/revoke/');
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toEqual({
      client_key: 'ck_1',
      client_secret: 'cs_secret_1',
      token: 'act.bye',
    });
  });

  it('reads user info with a Bearer token and the default fields', async () => {
    handler = sendJson(200, { data: { user: { open_id: 'o1' } }, error: { code: 'ok', message: '', log_id: 'l' } });
    await client().getUserInfo('act.A');
    expect(seen[0]?.method).toBe('GET');
    expect(seen[0]?.headers.authorization).toBe('Bearer act.A');
    expect(seen[0]?.url).toBe('/v2/user/info/?fields=open_id,union_id,avatar_url,display_name');
  });

  it('always asks for open_id, and for username only when told', async () => {
    handler = sendJson(200, { data: { user: { open_id: 'o1', username: 'ava' } }, error: { code: 'ok' } });
    const user = await client().getUserInfo('act.A', ['username']);
    expect(seen[0]?.url).toBe('/v2/user/info/?fields=open_id,username');
    expect(user).toEqual({ openId: 'o1', username: 'ava' });
  });

  it('does not follow a redirect that would re-send the client secret', async () => {
    handler = (_req, res) => res.writeHead(307, { location: `${base}/elsewhere` }).end();
    await expect(client().refresh('rft.x')).rejects.toMatchObject({ code: 'TIKTOK_UNEXPECTED_ERROR', status: 307 });
    expect(seen.map((s) => s.url)).toEqual(['/v2/oauth/token/']);
  });
});

describe('transport failures', () => {
  it('times out a slow answer with TIKTOK_TIMEOUT, within a margin of timeoutMs', async () => {
    handler = (_req, res) => setTimeout(() => sendJson(200, tokens)(_req, res), 1500);
    const started = performance.now();
    const error = await client(200)
      .refresh('rft.x')
      .catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ code: 'TIKTOK_TIMEOUT', transient: true });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
  });

  it('lets one call override the client timeout', async () => {
    handler = (_req, res) => setTimeout(() => sendJson(200, tokens)(_req, res), 300);
    await expect(client(100).refresh('rft.x', { timeoutMs: 3000 })).resolves.toMatchObject({ accessToken: 'act.A' });
    await expect(
      createTikTokClient({ clientKey: 'k', clientSecret: 's', apiUrl: base }).refresh('rft.x', { timeoutMs: 100 }),
    ).rejects.toMatchObject({ code: 'TIKTOK_TIMEOUT' });
  });

  it('times out a body that stalls after the headers', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":');
    };
    await expect(client(200).refresh('rft.x')).rejects.toMatchObject({ code: 'TIKTOK_TIMEOUT' });
  });

  it('reports a dropped connection as a transient network error', async () => {
    handler = (req) => req.socket.destroy();
    const error = (await client()
      .refresh('rft.dropped-token')
      .catch((e: unknown) => e)) as TikTokError;
    expect(error).toMatchObject({ code: 'TIKTOK_NETWORK_ERROR', transient: true, permanent: false });
    expect(error.message).not.toContain('rft.dropped-token');
    expect(error.cause).toBeDefined();
  });

  it('reports a refused connection as a network error', async () => {
    const closed = createTikTokClient({ clientKey: 'k', clientSecret: 's', apiUrl: 'http://127.0.0.1:1' });
    await expect(closed.refresh('rft.x')).rejects.toMatchObject({ code: 'TIKTOK_NETWORK_ERROR' });
  });

  it('reports the caller aborting as TIKTOK_ABORTED, not a timeout', async () => {
    handler = (_req, res) => setTimeout(() => sendJson(200, tokens)(_req, res), 1000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    await expect(client().refresh('rft.x', { signal: controller.signal })).rejects.toMatchObject({
      code: 'TIKTOK_ABORTED',
    });
  });

  it('times out even when an injected fetch ignores the abort signal', async () => {
    const hanging: typeof fetch = () => new Promise<Response>(() => {});
    const c = createTikTokClient({ clientKey: 'k', clientSecret: 's', fetch: hanging, timeoutMs: 100 });
    await expect(c.getUserInfo('act.x')).rejects.toMatchObject({ code: 'TIKTOK_TIMEOUT' });
  });

  it('never puts the client secret or tokens in a network error', async () => {
    const leaky: typeof fetch = async (_url, init) => {
      throw new TypeError(`boom ${String(init?.body)}`);
    };
    const c = createTikTokClient({ clientKey: 'k', clientSecret: 'very-secret-value', fetch: leaky });
    const error = (await c.refresh('rft.sensitive-token').catch((e: unknown) => e)) as TikTokError;
    expect(error.code).toBe('TIKTOK_NETWORK_ERROR');
    expect(error.message).not.toContain('very-secret-value');
    expect(error.message).not.toContain('rft.sensitive-token');
  });
});

describe('bad arguments', () => {
  it('reject the promise rather than throwing synchronously', async () => {
    const c = client();
    const pending = c.refresh('');
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toMatchObject({ code: 'TIKTOK_INVALID_ARGUMENT' });
    await expect(
      c.exchangeCode({ code: 'c', redirectUri: 'https://a.example/cb', codeVerifier: 'short' }),
    ).rejects.toMatchObject({ code: 'TIKTOK_INVALID_ARGUMENT' });
    await expect(c.getUserInfo('act.x', ['open_id,username' as never])).rejects.toMatchObject({
      code: 'TIKTOK_INVALID_ARGUMENT',
    });
    await expect(c.revoke('act.x', { timeoutMs: -5 })).rejects.toMatchObject({ code: 'TIKTOK_INVALID_ARGUMENT' });
    expect(seen).toEqual([]);
  });
});

describe('answers', () => {
  it('hands back the tokens of the answer, the rotated refresh token included', async () => {
    handler = sendJson(200, tokens);
    await expect(client().refresh('rft.x')).resolves.toMatchObject({ refreshToken: 'rft.R' });
  });
});
