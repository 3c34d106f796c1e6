import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Secrets generated for development so that nobody has to invent keys before a first run. */
export interface DevSecrets {
  gatewayApiKey: string;
  adminApiToken: string;
  tokenEncryptionKeys: string;
  cookieSecret: string;
}

const memo = new Map<string, DevSecrets>();

function generate(): DevSecrets {
  return {
    gatewayApiKey: `gw_dev_${randomBytes(24).toString('base64url')}`,
    adminApiToken: `adm_dev_${randomBytes(24).toString('base64url')}`,
    tokenEncryptionKeys: `dev1:${randomBytes(32).toString('base64')}`,
    cookieSecret: randomBytes(32).toString('base64url'),
  };
}

function isDevSecrets(value: unknown): value is DevSecrets {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['gatewayApiKey', 'adminApiToken', 'tokenEncryptionKeys', 'cookieSecret'].every(
    (k) => typeof v[k] === 'string' && (v[k] as string).length > 0,
  );
}

/**
 * Development secrets, random on first use and then kept in `file` (mode 0600, git-ignored) so that the gateway,
 * worker and admin processes agree on them and tokens stay readable across restarts. With `persist: false` (tests)
 * they live only in this process.
 */
export function loadDevSecrets(file: string, options: { persist: boolean }): DevSecrets {
  const cached = memo.get(file);
  if (cached) return cached;
  let secrets: DevSecrets | undefined;
  if (options.persist) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (isDevSecrets(parsed)) secrets = parsed;
    } catch {
      // Missing or unreadable: generate below.
    }
    if (!secrets) {
      const fresh = generate();
      mkdirSync(dirname(file), { recursive: true });
      // Written whole under a temporary name, then linked into place: `link` fails when the file exists, so processes
      // starting together (gateway, worker, admin) all keep the first complete file, and none reads a half-written one.
      const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      try {
        linkSync(temporary, file);
        secrets = fresh;
      } catch {
        const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
        secrets = isDevSecrets(parsed) ? parsed : fresh;
      } finally {
        rmSync(temporary, { force: true });
      }
    }
  }
  const result = secrets ?? generate();
  memo.set(file, result);
  return result;
}

/**
 * `.dev/secrets.json` in the nearest folder, from `start` upwards, that holds `pnpm-workspace.yaml` (the repository
 * root), else in `start` itself. Apps run from their own folders (`pnpm --dir apps/gateway dev`) and must still find
 * the one file, or the gateway would encrypt tokens with a key the worker does not have.
 */
export function defaultDevSecretsFile(start: string = process.cwd()): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return join(dir, '.dev', 'secrets.json');
    const parent = dirname(dir);
    if (parent === dir) return join(start, '.dev', 'secrets.json');
    dir = parent;
  }
}
