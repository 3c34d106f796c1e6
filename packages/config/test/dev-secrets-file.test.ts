import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

const tmpFile = () => join(mkdtempSync(join(tmpdir(), 'ttc-config-')), 'secrets.json');

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('DEV_SECRETS_FILE', () => {
  it('keeps generated development secrets in the file it names', () => {
    const file = tmpFile();
    const config = loadConfig({ service: 'worker', env: { DEV_SECRETS_FILE: file } });
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { tokenEncryptionKeys: string; gatewayApiKey: string };
    expect(stored.tokenEncryptionKeys).toBe(config.tokenEncryptionKeys);
    expect(config.generated).toContain('TOKEN_ENCRYPTION_KEYS');
  });

  it('gives two services pointed at the same file the same secrets', () => {
    const file = tmpFile();
    const gateway = loadConfig({ service: 'gateway', env: { DEV_SECRETS_FILE: file } });
    const admin = loadConfig({ service: 'admin', env: { DEV_SECRETS_FILE: file } });
    expect(admin.tokenEncryptionKeys).toBe(gateway.tokenEncryptionKeys);
    expect(admin.gatewayApiKeys).toEqual(gateway.gatewayApiKeys);
  });

  it('refuses a relative path, naming the variable', () => {
    const error = configError(() => loadConfig({ service: 'gateway', env: { DEV_SECRETS_FILE: 'secrets.json' } }));
    expect(error.issues).toEqual([{ variable: 'DEV_SECRETS_FILE', problem: 'must be an absolute path' }]);
  });

  it('yields to a file given in code', () => {
    const fromEnv = tmpFile();
    const fromCode = tmpFile();
    loadConfig({ service: 'gateway', env: { DEV_SECRETS_FILE: fromEnv }, devSecretsFile: fromCode });
    expect(existsSync(fromCode)).toBe(true);
    expect(existsSync(fromEnv)).toBe(false);
  });
});

describe('alsoRequire', () => {
  const cliProduction = { NODE_ENV: 'production', DATABASE_URL: 'postgresql://db.internal:5432/app' };

  it('lets a cli command insist on TOKEN_ENCRYPTION_KEYS in production', () => {
    const error = configError(() =>
      loadConfig({ service: 'cli', env: cliProduction, alsoRequire: ['TOKEN_ENCRYPTION_KEYS'] }),
    );
    expect(error.issues).toEqual([{ variable: 'TOKEN_ENCRYPTION_KEYS', problem: 'required in production' }]);
    const key = `k1:${randomBytes(32).toString('base64')}`;
    const config = loadConfig({
      service: 'cli',
      env: { ...cliProduction, TOKEN_ENCRYPTION_KEYS: key },
      alsoRequire: ['TOKEN_ENCRYPTION_KEYS'],
    });
    expect(config.tokenEncryptionKeys).toBe(key);
  });

  it('leaves other cli commands (db:migrate) needing only DATABASE_URL', () => {
    const config = loadConfig({ service: 'cli', env: cliProduction });
    expect(config.databaseUrl).toBe(cliProduction.DATABASE_URL);
    expect(config.tokenEncryptionKeys).toBe('');
  });
});

describe('development secrets shared by processes starting together', () => {
  it('gives every process the same complete secrets, never a half-written file', async () => {
    const { execFile } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const file = tmpFile();
    const script = `import { loadConfig } from './src/index.ts';
const c = loadConfig({ service: 'gateway' });
console.log(JSON.stringify([c.tokenEncryptionKeys, c.gatewayApiKeys, c.adminApiTokens, c.cookieSecret]));`;
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const run = () =>
      new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script],
          { cwd, env: { PATH: process.env.PATH, NODE_ENV: 'development', DEV_SECRETS_FILE: file } },
          (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout.trim())),
        );
      });
    const outputs = await Promise.all(Array.from({ length: 6 }, run));
    expect(new Set(outputs).size).toBe(1);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { tokenEncryptionKeys: string };
    expect(JSON.parse(outputs[0] ?? '[]')[0]).toBe(stored.tokenEncryptionKeys);
  });
});
