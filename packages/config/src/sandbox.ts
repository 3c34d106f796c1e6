import { z } from 'zod';
import { SANDBOX_CLIENT_KEY, SANDBOX_CLIENT_SECRET } from './config.js';
import { ConfigError } from './errors.js';

/** Settings of the bundled TikTok sandbox (`apps/tiktok-sandbox`). */
export interface SandboxConfig {
  port: number;
  host: string;
  clientKey: string;
  clientSecret: string;
  /** The client app's name on the sandbox's login and consent pages (SANDBOX_APP_NAME). */
  appName: string;
  /** Base URL browsers use to reach the sandbox, when it differs from `http://host:port` (containers, proxies). */
  publicUrl: string | undefined;
  /** REQUEST_TIMEOUT_MS, as the other services read it. */
  requestTimeoutMs: number;
}

const sandboxEnv = z.object({
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65_535).default(3999),
  SANDBOX_HOST: z.string().min(1).optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_CLIENT_KEY: z.string().min(1).default(SANDBOX_CLIENT_KEY),
  SANDBOX_CLIENT_SECRET: z.string().min(1).default(SANDBOX_CLIENT_SECRET),
  SANDBOX_APP_NAME: z.string().trim().min(1).max(100).default('TikTok multi-account connect'),
  SANDBOX_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
});

/** Every setting `loadSandboxConfig` reads. */
export const SANDBOX_CONFIG_VARIABLES = Object.keys(sandboxEnv.shape) as (keyof z.infer<typeof sandboxEnv>)[];

/**
 * Parses the sandbox's settings. Its default client key and secret are the ones the other services use in
 * development when no TikTok credentials are set, so `pnpm dev` needs no configuration at all.
 */
export function loadSandboxConfig(env: Record<string, string | undefined> = process.env): SandboxConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = sandboxEnv.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), problem: i.message })),
    );
  }
  const e = parsed.data;
  return {
    port: e.SANDBOX_PORT,
    host: e.SANDBOX_HOST ?? e.HOST,
    clientKey: e.SANDBOX_CLIENT_KEY,
    clientSecret: e.SANDBOX_CLIENT_SECRET,
    appName: e.SANDBOX_APP_NAME,
    publicUrl: e.SANDBOX_PUBLIC_URL,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
  };
}
