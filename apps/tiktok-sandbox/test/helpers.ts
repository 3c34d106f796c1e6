import type { FastifyInstance } from 'fastify';
import { buildSandboxApp, createSandboxControl, type SandboxControl, type SandboxOptions } from '../src/index.js';

export const REDIRECT_URI = 'https://app.example.test/auth/tiktok/callback';
export const CLIENT_KEY = 'sbx_client_key';
export const CLIENT_SECRET = 'sbx_client_secret';
export const AVA = 'sbx-open-ava';
export const BEN = 'sbx-open-ben';

export interface TestSandbox {
  app: FastifyInstance;
  control: SandboxControl;
}

export async function sandbox(options: SandboxOptions = {}): Promise<TestSandbox> {
  const app = await buildSandboxApp(options);
  return { app, control: createSandboxControl(app) };
}

export function authorizeQuery(overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    client_key: CLIENT_KEY,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'user.info.basic,video.list',
    state: 'st-123',
    ...overrides,
  };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return q.toString();
}

export function form(values: Record<string, string | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (Array.isArray(v)) for (const item of v) q.append(k, item);
    else if (v !== undefined) q.set(k, v);
  }
  return q.toString();
}

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The `name=value` of the session cookie a response set. */
export function sessionCookie(res: { headers: Record<string, unknown> }): string {
  const raw = res.headers['set-cookie'];
  const first = (Array.isArray(raw) ? raw[0] : raw) as string | undefined;
  if (!first) throw new Error('no cookie was set');
  return first.split(';')[0] ?? '';
}

/** Hidden inputs of a rendered form, as the browser would submit them. */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    out[decodeHtml(m[1] ?? '')] = decodeHtml(m[2] ?? '');
  }
  return out;
}

function decodeHtml(s: string): string {
  return s
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

export async function loginAs(app: FastifyInstance, openId: string, query = authorizeQuery()): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/v2/auth/login/',
    headers: FORM,
    payload: `${query}&open_id=${encodeURIComponent(openId)}`,
  });
  if (res.statusCode !== 303) throw new Error(`login failed with ${res.statusCode}`);
  return sessionCookie(res);
}

export async function exchange(
  app: FastifyInstance,
  values: Record<string, string | undefined>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.inject({
    method: 'POST',
    url: '/v2/oauth/token/',
    headers: FORM,
    payload: form({ client_key: CLIENT_KEY, client_secret: CLIENT_SECRET, ...values }),
  });
  return { status: res.statusCode, body: res.body ? res.json() : {} };
}

export async function tokensFor(
  s: TestSandbox,
  openId = AVA,
  scopes: string[] = ['user.info.basic'],
): Promise<{ access_token: string; refresh_token: string; [k: string]: unknown }> {
  const { code } = await s.control.mintCode({ openId, redirectUri: REDIRECT_URI, scopes });
  const res = await exchange(s.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  if (res.status !== 200) throw new Error(`exchange failed: ${JSON.stringify(res.body)}`);
  return res.body as { access_token: string; refresh_token: string };
}
