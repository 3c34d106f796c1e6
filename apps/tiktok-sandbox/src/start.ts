import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createSandbox } from './app.js';
import { SandboxError } from './errors.js';
import type { SandboxCall, SandboxControl, SandboxHandle, SandboxOptions, SandboxUser } from './types.js';

type Transport = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: unknown }>;

function controlOver(transport: Transport): SandboxControl {
  const call = async <T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<T> => {
    const res = await transport(method, path, body);
    if (res.status >= 300) {
      const error = (res.body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new SandboxError(
        'SANDBOX_CONTROL_FAILED',
        `Sandbox control ${method} ${path} failed with ${res.status}: ${error?.code ?? ''} ${error?.message ?? ''}`.trim(),
      );
    }
    return res.body as T;
  };
  return {
    async setLifetimes(l) {
      await call('PUT', '/__sandbox/lifetimes', l);
    },
    async injectFailure(f) {
      const times = f.times === undefined || Number.isFinite(f.times) ? f.times : 'Infinity';
      await call('POST', '/__sandbox/failures', { ...f, times });
    },
    async clearFailures() {
      await call('DELETE', '/__sandbox/failures');
    },
    async calls(filter = {}) {
      const query = new URLSearchParams();
      if (filter.endpoint) query.set('endpoint', filter.endpoint);
      if (filter.openId) query.set('openId', filter.openId);
      const qs = query.toString();
      return (await call<{ calls: SandboxCall[] }>('GET', `/__sandbox/calls${qs ? `?${qs}` : ''}`)).calls;
    },
    async resetCalls() {
      await call('DELETE', '/__sandbox/calls');
    },
    async users() {
      return (await call<{ users: SandboxUser[] }>('GET', '/__sandbox/users')).users;
    },
    async mintCode(p) {
      const { code, scopes } = await call<{ code: string; scopes: string }>('POST', '/__sandbox/codes', p);
      return { code, scopes };
    },
    async revokeUser(openId) {
      await call('POST', `/__sandbox/users/${encodeURIComponent(openId)}/revoke`);
    },
    async advanceTime(seconds) {
      await call('POST', '/__sandbox/clock/advance', { seconds });
    },
    async createSession(openId) {
      const { name, value } = await call<{ name: string; value: string }>('POST', '/__sandbox/sessions', { openId });
      return { name, value };
    },
    async reset() {
      await call('POST', '/__sandbox/reset');
    },
  };
}

/**
 * A typed client of the control API: give it the sandbox's base URL (real HTTP) or an app from
 * `buildSandboxApp` (through `inject()`).
 */
export function createSandboxControl(target: string | FastifyInstance): SandboxControl {
  if (typeof target === 'string') {
    const base = target.replace(/\/+$/, '');
    return controlOver(async (method, path, body) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    });
  }
  return controlOver(async (method, path, body) => {
    const res = await target.inject({
      method,
      url: path,
      ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  });
}

/**
 * Starts an independent sandbox (own state) listening on `host` (default 127.0.0.1) and `port` (default 0 = random).
 * Throws `SANDBOX_INVALID_OPTIONS` for bad options.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const { app, state } = await createSandbox(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const { port } = app.server.address() as AddressInfo;
  const reachableHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${reachableHost.includes(':') ? `[${reachableHost}]` : reachableHost}:${port}`;
  const authUrl = `${url}/v2/auth/authorize/`;
  return {
    url,
    authUrl,
    clientKey: state.clientKey,
    clientSecret: state.clientSecret,
    clientOptions: { clientKey: state.clientKey, clientSecret: state.clientSecret, authUrl, apiUrl: url },
    control: createSandboxControl(url),
    close: () => app.close(),
  };
}
