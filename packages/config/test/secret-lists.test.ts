// Settings that hold several secrets: COOKIE_SECRET (rotation) and GATEWAY_API_KEYS (named keys).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, loggedError, parseGatewayApiKeys } from '../src/index.js';

const production = (extra: Record<string, string> = {}) => ({
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://db.internal:5432/app',
  REDIS_URL: 'redis://redis.internal:6379',
  TIKTOK_CLIENT_KEY: 'aw123',
  TIKTOK_CLIENT_SECRET: 'supersecretvalue',
  PUBLIC_GATEWAY_URL: 'https://connect.example.com',
  GATEWAY_API_KEYS: 'gw_0123456789abcdefghijklmnop',
  ADMIN_API_TOKENS: 'adm_0123456789abcdefghijklmnop',
  ALLOWED_RETURN_ORIGINS: 'https://app.example.com',
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  COOKIE_SECRET: 'c'.repeat(40),
  ...extra,
});

function problems(env: Record<string, string>, service: 'gateway' | 'admin' = 'gateway'): string {
  try {
    loadConfig({ service, env });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return '';
}

describe('COOKIE_SECRET', () => {
  it('takes a comma-separated list, the sealing secret first', () => {
    const [a, b] = ['a'.repeat(32), 'b'.repeat(40)];
    const config = loadConfig({ service: 'gateway', env: production({ COOKIE_SECRET: ` ${a} , ${b} ` }) });
    expect(config.cookieSecrets).toEqual([a, b]);
    expect(config.cookieSecret).toBe(a);
  });

  it('refuses any secret shorter than 32 characters, without quoting it', () => {
    const message = problems(production({ COOKIE_SECRET: `${'a'.repeat(32)},short-secret` }));
    expect(message).toContain('COOKIE_SECRET');
    expect(message).not.toContain('short-secret');
  });

  it('refuses the same secret twice', () => {
    const secret = 'd'.repeat(32);
    expect(problems(production({ COOKIE_SECRET: `${secret},${secret}` }))).toContain(
      'COOKIE_SECRET: lists the same secret twice',
    );
  });

  it('is required by the admin in production (it seals the console session)', () => {
    const env = production();
    delete (env as Record<string, string>).COOKIE_SECRET;
    expect(problems(env, 'admin')).toContain('COOKIE_SECRET: required in production');
  });
});

describe('GATEWAY_API_KEYS', () => {
  it('reads name:key entries and names bare keys by position', () => {
    expect(parseGatewayApiKeys(['billing:gw_aaaaaaaaaaaaaaaaaaaaaaaaaa', 'gw_bbbbbbbbbbbbbbbbbbbbbbbbbb'])).toEqual([
      { name: 'billing', key: 'gw_aaaaaaaaaaaaaaaaaaaaaaaaaa' },
      { name: 'key-2', key: 'gw_bbbbbbbbbbbbbbbbbbbbbbbbbb' },
    ]);
    // The key is everything after the first ":"; a bare key whose head is no valid name stays whole.
    expect(parseGatewayApiKeys(['crm:abc:def', '://not a name:xyz'])).toEqual([
      { name: 'crm', key: 'abc:def' },
      { name: 'key-2', key: '://not a name:xyz' },
    ]);
    const config = loadConfig({
      service: 'gateway',
      env: production({ GATEWAY_API_KEYS: 'crm:gw_0123456789abcdefghijklmnop,gw_zyxwvutsrqponmlkjihgfedcba' }),
    });
    expect(config.gatewayApiKeys.map((k) => k.name)).toEqual(['crm', 'key-2']);
    // The start-up summary lists the names, never a key.
    const summary = JSON.stringify(describeConfig(config));
    expect(summary).toContain('"gatewayApiKeys":["crm","key-2"]');
    expect(summary).not.toContain('gw_0123456789abcdefghijklmnop');
  });

  it('checks the length of the key, not of name:key, and refuses repeated names', () => {
    expect(problems(production({ GATEWAY_API_KEYS: 'a-very-long-descriptive-name:short' }))).toContain(
      'GATEWAY_API_KEYS: every key must be at least 24 characters',
    );
    const twice = `crm:${'x'.repeat(30)},crm:${'y'.repeat(30)}`;
    const message = problems(production({ GATEWAY_API_KEYS: twice }));
    expect(message).toContain('GATEWAY_API_KEYS: key names must be unique');
    expect(message).not.toContain('x'.repeat(30));
  });
});

describe('loggedError', () => {
  it('keeps type, code, message and the cause, never the stack', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const error = Object.assign(new Error('TikTok could not be reached', { cause }), { code: 'TIKTOK_NETWORK_ERROR' });
    const logged = loggedError(error);
    expect(logged).toEqual({
      type: 'Error',
      code: 'TIKTOK_NETWORK_ERROR',
      message: 'TikTok could not be reached',
      cause: { type: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' },
    });
    expect(JSON.stringify(logged)).not.toContain('    at ');
    expect(loggedError('plain string')).toEqual({ type: 'string', message: 'plain string' });
  });
});
