import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

const key = () => `k1:${randomBytes(32).toString('base64')}`;
const tmpFile = () => join(mkdtempSync(join(tmpdir(), 'ttc-config-')), 'secrets.json');

const production = () => ({
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://db.internal:5432/app',
  REDIS_URL: 'redis://redis.internal:6379',
  TIKTOK_CLIENT_KEY: 'aw123',
  TIKTOK_CLIENT_SECRET: 'supersecretvalue',
  PUBLIC_GATEWAY_URL: 'https://connect.example.com',
  GATEWAY_API_KEYS: 'gw_0123456789abcdefghijklmnop',
  ADMIN_API_TOKENS: 'adm_0123456789abcdefghijklmnop',
  ALLOWED_RETURN_ORIGINS: 'https://app.example.com',
  TOKEN_ENCRYPTION_KEYS: key(),
  COOKIE_SECRET: 'c'.repeat(40),
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig in production', () => {
  it('accepts a complete environment and derives the redirect URI', () => {
    const config = loadConfig({ service: 'gateway', env: production() });
    expect(config.tiktok.usingSandbox).toBe(false);
    expect(config.tiktok.authUrl).toBe('https://www.tiktok.com/v2/auth/authorize/');
    expect(config.tiktok.apiUrl).toBe('https://open.tiktokapis.com');
    expect(config.tiktok.redirectUri).toBe('https://connect.example.com/auth/tiktok/callback');
    expect(config.tiktok.scopes).toEqual(['user.info.basic', 'video.list', 'video.publish']);
    expect(config.generated).toEqual([]);
  });

  it('names every missing variable in one error, without values', () => {
    const env = production();
    delete (env as Record<string, string>).TIKTOK_CLIENT_SECRET;
    delete (env as Record<string, string>).COOKIE_SECRET;
    delete (env as Record<string, string>).GATEWAY_API_KEYS;
    const error = configError(() => loadConfig({ service: 'gateway', env }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues.map((i) => i.variable).sort()).toEqual(
      ['COOKIE_SECRET', 'GATEWAY_API_KEYS', 'TIKTOK_CLIENT_SECRET', 'TIKTOK_CLIENT_SECRET'].sort(),
    );
    expect(error.message).toContain('COOKIE_SECRET: required in production');
    expect(error.message).not.toContain(env.TOKEN_ENCRYPTION_KEYS);
  });

  it('names malformed variables and never echoes their values', () => {
    const env = {
      ...production(),
      TOKEN_ENCRYPTION_KEYS: 'k1:dG9vc2hvcnQ=',
      REDIS_URL: 'http://nope',
      GATEWAY_PORT: 'eighty',
      TIKTOK_DISABLE_AUTO_AUTH: 'maybe',
    };
    const error = configError(() => loadConfig({ service: 'gateway', env }));
    const names = error.issues.map((i) => i.variable);
    expect(names).toEqual(
      expect.arrayContaining(['TOKEN_ENCRYPTION_KEYS', 'REDIS_URL', 'GATEWAY_PORT', 'TIKTOK_DISABLE_AUTO_AUTH']),
    );
    expect(error.message).not.toContain('dG9vc2hvcnQ');
  });

  it('refuses an http public gateway URL and short API keys', () => {
    const env = { ...production(), PUBLIC_GATEWAY_URL: 'http://connect.example.com', GATEWAY_API_KEYS: 'short' };
    const names = configError(() => loadConfig({ service: 'gateway', env })).issues.map((i) => i.variable);
    expect(names).toEqual(expect.arrayContaining(['PUBLIC_GATEWAY_URL', 'GATEWAY_API_KEYS']));
  });

  it('asks each service only for what it uses', () => {
    const env = production();
    delete (env as Record<string, string>).GATEWAY_API_KEYS;
    delete (env as Record<string, string>).PUBLIC_GATEWAY_URL;
    expect(() => loadConfig({ service: 'worker', env })).not.toThrow();
    expect(() => loadConfig({ service: 'gateway', env })).toThrow(ConfigError);
  });

  it('parses "false" as false for booleans', () => {
    const config = loadConfig({ service: 'gateway', env: { ...production(), TIKTOK_PROMPT_SELECT_ACCOUNT: 'false' } });
    expect(config.tiktok.promptSelectAccount).toBe(false);
    expect(config.tiktok.disableAutoAuth).toBe(true);
  });

  it('refuses a return origin that is not an origin', () => {
    const env = { ...production(), ALLOWED_RETURN_ORIGINS: 'https://ok.example.com,not a url' };
    const error = configError(() => loadConfig({ service: 'gateway', env }));
    expect(error.issues[0]?.variable).toBe('ALLOWED_RETURN_ORIGINS');
  });
});

describe('REDIS_URL', () => {
  it('takes a cluster as redis+cluster://seed,seed and hash-tags the key prefix for it', () => {
    const single = loadConfig({ service: 'worker', env: { ...production(), QUEUE_PREFIX: 'acme' } });
    expect(single.queuePrefix).toBe('acme');
    const url = 'redis+cluster://:s3cret@10.0.0.1:7000,10.0.0.2:7001';
    const cluster = loadConfig({ service: 'worker', env: { ...production(), REDIS_URL: url, QUEUE_PREFIX: 'acme' } });
    expect(cluster.redisUrl).toBe(url);
    expect(cluster.queuePrefix).toBe('{acme}');
    expect(
      loadConfig({ service: 'worker', env: { ...production(), REDIS_URL: 'rediss+cluster://h:1' } }).queuePrefix,
    ).toBe('{ttc}');
  });

  it('refuses a cluster URL it cannot read, without echoing it', () => {
    for (const REDIS_URL of [
      'redis+cluster://:s3cret@',
      'redis+cluster://:s3cret@h1:7000,,h2:7001',
      'redis+cluster://:s3cret@h1:7000/0?x=1',
    ]) {
      const error = configError(() => loadConfig({ service: 'worker', env: { ...production(), REDIS_URL } }));
      expect(error.issues.map((i) => i.variable)).toEqual(['REDIS_URL']);
      expect(error.message).not.toContain('s3cret');
    }
  });
});

describe('fault settings', () => {
  it('bounds a stop at 20 s and statements at 10 s by default, and reads both', () => {
    const defaults = loadConfig({ service: 'worker', env: production() });
    expect(defaults.shutdownTimeoutMs).toBe(20_000);
    expect(defaults.databaseStatementTimeoutMs).toBe(10_000);
    const set = loadConfig({
      service: 'worker',
      env: { ...production(), SHUTDOWN_TIMEOUT_MS: '8000', DATABASE_STATEMENT_TIMEOUT_MS: '0' },
    });
    expect(set.shutdownTimeoutMs).toBe(8_000);
    expect(set.databaseStatementTimeoutMs).toBe(0);
  });

  it('refuses a stop bound under a second', () => {
    const error = configError(() =>
      loadConfig({ service: 'gateway', env: { ...production(), SHUTDOWN_TIMEOUT_MS: '10' } }),
    );
    expect(error.issues.map((i) => i.variable)).toContain('SHUTDOWN_TIMEOUT_MS');
  });
});

describe('webhook settings', () => {
  const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

  it('reads comma-separated endpoints and secrets, the first secret signing', () => {
    const [a, b] = [secret(), secret()];
    const env = {
      ...production(),
      WEBHOOK_URLS: 'https://a.example.com/hook, https://b.example.com/hook',
      WEBHOOK_SECRETS: `${a},${b}`,
    };
    const config = loadConfig({ service: 'worker', env });
    expect(config.webhooks).toEqual({
      urls: ['https://a.example.com/hook', 'https://b.example.com/hook'],
      secrets: [a, b],
    });
  });

  it('has no webhooks when none are configured, also in development (nothing generated)', () => {
    expect(loadConfig({ service: 'worker', env: production() }).webhooks).toEqual({ urls: [], secrets: [] });
    const dev = loadConfig({ service: 'worker', env: {}, devSecretsFile: tmpFile() });
    expect(dev.webhooks).toEqual({ urls: [], secrets: [] });
    expect(dev.generated).not.toContain('WEBHOOK_SECRETS');
  });

  it('stops the start-up on malformed values, naming the variable and never the value', () => {
    const env = { ...production(), WEBHOOK_URLS: 'ftp://files.example.com', WEBHOOK_SECRETS: 'whsec_dG9vc2hvcnQ=' };
    const error = configError(() => loadConfig({ service: 'worker', env }));
    expect(error.issues.map((i) => i.variable).sort()).toEqual(['WEBHOOK_SECRETS', 'WEBHOOK_URLS']);
    expect(error.message).not.toContain('dG9vc2hvcnQ');
    expect(error.message).not.toContain('files.example.com');
  });

  it('refuses endpoints without a secret, and http endpoints in production', () => {
    const missing = configError(() =>
      loadConfig({ service: 'worker', env: { ...production(), WEBHOOK_URLS: 'https://a.example.com' } }),
    );
    expect(missing.issues.map((i) => i.variable)).toEqual(['WEBHOOK_SECRETS']);
    const plain = { ...production(), WEBHOOK_URLS: 'http://a.example.com', WEBHOOK_SECRETS: secret() };
    expect(configError(() => loadConfig({ service: 'worker', env: plain })).issues[0]?.variable).toBe('WEBHOOK_URLS');
    const dev = loadConfig({ service: 'worker', env: { ...plain, NODE_ENV: 'test' }, devSecretsFile: tmpFile() });
    expect(dev.webhooks.urls).toEqual(['http://a.example.com']);
  });
});

describe('loadConfig in development', () => {
  it("lets returnTo point at the gateway's own port, whatever GATEWAY_PORT is (the /dev demo's Done)", () => {
    const config = loadConfig({ service: 'gateway', env: { GATEWAY_PORT: '4100' }, devSecretsFile: tmpFile() });
    expect(config.allowedReturnOrigins).toEqual(
      expect.arrayContaining(['http://localhost:4100', 'http://127.0.0.1:4100', 'http://localhost:5173']),
    );
    expect(config.allowedReturnOrigins).not.toContain('http://localhost:3000');
  });

  it('points TikTok at the sandbox and generates secrets when none are set', () => {
    const file = tmpFile();
    const config = loadConfig({ service: 'gateway', env: { SANDBOX_PORT: '4555' }, devSecretsFile: file });
    expect(config.env).toBe('development');
    expect(config.tiktok.usingSandbox).toBe(true);
    expect(config.tiktok.authUrl).toBe('http://127.0.0.1:4555/v2/auth/authorize/');
    expect(config.tiktok.apiUrl).toBe('http://127.0.0.1:4555');
    expect(config.generated).toEqual(
      expect.arrayContaining(['GATEWAY_API_KEYS', 'ADMIN_API_TOKENS', 'TOKEN_ENCRYPTION_KEYS', 'COOKIE_SECRET']),
    );
    expect(config.tokenEncryptionKeys).toMatch(/^dev1:/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('tells a defaulted NODE_ENV from one set explicitly (development pages need it set)', () => {
    const file = tmpFile();
    expect(loadConfig({ service: 'gateway', env: {}, devSecretsFile: file }).envExplicit).toBe(false);
    const set = loadConfig({ service: 'gateway', env: { NODE_ENV: 'development' }, devSecretsFile: file });
    expect(set.envExplicit).toBe(true);
  });

  it('reads TRUST_PROXY as a boolean, a hop count or a list of proxy addresses', () => {
    const trust = (value?: string) =>
      loadConfig({
        service: 'gateway',
        env: value === undefined ? {} : { TRUST_PROXY: value },
        devSecretsFile: tmpFile(),
      }).trustProxy;
    expect(trust()).toBe(false);
    expect(trust('true')).toBe(true);
    expect(trust('2')).toBe(2);
    expect(trust('10.0.0.0/8, 127.0.0.1')).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(configError(() => trust('yes please')).issues[0]?.variable).toBe('TRUST_PROXY');
  });

  it('shares generated secrets between processes through the secrets file', () => {
    const file = tmpFile();
    const first = loadConfig({ service: 'gateway', env: {}, devSecretsFile: file });
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { tokenEncryptionKeys: string };
    expect(stored.tokenEncryptionKeys).toBe(first.tokenEncryptionKeys);
  });

  it('uses real TikTok when credentials are given', () => {
    const config = loadConfig({
      service: 'gateway',
      env: { TIKTOK_CLIENT_KEY: 'a', TIKTOK_CLIENT_SECRET: 'b' },
      devSecretsFile: tmpFile(),
    });
    expect(config.tiktok.usingSandbox).toBe(false);
    expect(config.tiktok.apiUrl).toBe('https://open.tiktokapis.com');
  });

  it('refuses a client key without its secret', () => {
    const error = configError(() =>
      loadConfig({ service: 'gateway', env: { TIKTOK_CLIENT_KEY: 'a' }, devSecretsFile: tmpFile() }),
    );
    expect(error.issues[0]?.variable).toBe('TIKTOK_CLIENT_SECRET');
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({
      service: 'gateway',
      env: { TIKTOK_CLIENT_KEY: '', TIKTOK_CLIENT_SECRET: '' },
      devSecretsFile: tmpFile(),
    });
    expect(config.tiktok.usingSandbox).toBe(true);
  });
});

describe('loadSandboxConfig', () => {
  it('defaults to the client credentials the other services use in development', async () => {
    const { loadSandboxConfig, SANDBOX_CLIENT_KEY, SANDBOX_CLIENT_SECRET } = await import('../src/index.js');
    const config = loadSandboxConfig({});
    expect(config).toMatchObject({ port: 3999, host: '127.0.0.1', clientKey: SANDBOX_CLIENT_KEY });
    expect(config.clientSecret).toBe(SANDBOX_CLIENT_SECRET);
  });

  it('names a bad port', async () => {
    const { loadSandboxConfig } = await import('../src/index.js');
    const error = configError(() => loadSandboxConfig({ SANDBOX_PORT: 'x', SANDBOX_PUBLIC_URL: 'ftp://a' }));
    expect(error.issues.map((i) => i.variable).sort()).toEqual(['SANDBOX_PORT', 'SANDBOX_PUBLIC_URL']);
  });
});

describe('defaultDevSecretsFile', () => {
  it('finds the workspace root from an app folder, so every app shares one secrets file', async () => {
    const { defaultDevSecretsFile } = await import('../src/index.js');
    const root = join(import.meta.dirname, '..', '..', '..');
    expect(defaultDevSecretsFile(join(root, 'apps', 'gateway'))).toBe(join(root, '.dev', 'secrets.json'));
    expect(defaultDevSecretsFile(join(root, 'apps', 'worker', 'src'))).toBe(join(root, '.dev', 'secrets.json'));
  });

  it('falls back to the working directory outside a workspace', async () => {
    const { defaultDevSecretsFile } = await import('../src/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'ttc-nows-'));
    expect(defaultDevSecretsFile(dir)).toBe(join(dir, '.dev', 'secrets.json'));
  });
});
