import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { defaultDevSecretsFile, loadDevSecrets } from './dev-secrets.js';
import { ConfigError, type ConfigIssue } from './errors.js';

/** Which process is asking: each one only insists, in production, on the settings it uses. */
export type ServiceName = 'gateway' | 'worker' | 'admin' | 'sandbox' | 'cli';

export const DEFAULT_TIKTOK_AUTH_URL = 'https://www.tiktok.com/v2/auth/authorize/';
export const DEFAULT_TIKTOK_API_URL = 'https://open.tiktokapis.com';
export const DEFAULT_TIKTOK_SCOPES = 'user.info.basic,video.list,video.publish';
/** The client key and secret the bundled TikTok sandbox accepts by default. */
export const SANDBOX_CLIENT_KEY = 'sbx_client_key';
export const SANDBOX_CLIENT_SECRET = 'sbx_client_secret';

const port = z.coerce.number().int().min(0).max(65535);
const list = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  )
  .pipe(z.array(z.string()));
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const isHttpUrl = (value: string) => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
};
const webhookSecretPattern = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const isWebhookSecret = (value: string) => {
  if (!webhookSecretPattern.test(value)) return false;
  const bytes = Buffer.from(value.slice('whsec_'.length), 'base64').length;
  return bytes >= 24 && bytes <= 64;
};
const keyringPattern = /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/_-]+={0,2}$/;
/** A gateway API key's name: shown in logs, metrics and account events (never the key). */
const apiKeyNamePattern = /^[A-Za-z0-9_.-]{1,64}$/;

/** One of GATEWAY_API_KEYS: the key, and the name it is known by in logs, metrics and account events. */
export interface GatewayApiKey {
  name: string;
  key: string;
}

/**
 * `name:key` entries (the key is everything after the first `:`), or a bare key, named `key-<its position>`. A key
 * that itself contains `:` must be given a name, or the part before its first `:` would be taken for one.
 */
export function parseGatewayApiKeys(entries: readonly string[]): GatewayApiKey[] {
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon) : '';
    return apiKeyNamePattern.test(name)
      ? { name, key: entry.slice(colon + 1) }
      : { name: `key-${index + 1}`, key: entry };
  });
}

/** The raw environment, every variable optional here: required-ness depends on NODE_ENV and the service. */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_PORT: port.default(3000),
  ADMIN_PORT: port.default(3001),
  WORKER_METRICS_PORT: port.default(3002),
  SANDBOX_PORT: port.default(3999),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  // Postgres cancels a statement running longer (a row lock held elsewhere, a server that stopped answering): the
  // apps answer 503 instead of hanging. 0 = no limit.
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  DATABASE_PREPARED_STATEMENTS: z.stringbool().default(true),
  REDIS_URL: z
    .string()
    .regex(
      /^rediss?:\/\/|^rediss?\+cluster:\/\/(?:[^@/]*@)?[^/?#,@]+(?:,[^/?#,@]+)*\/?$/,
      'must be a redis:// or rediss:// URL, or redis+cluster://[user[:password]@]host:port[,host:port…]',
    )
    .optional(),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and - only')
    .default('ttc'),

  TIKTOK_CLIENT_KEY: z.string().min(1).optional(),
  TIKTOK_CLIENT_SECRET: z.string().min(1).optional(),
  TIKTOK_AUTH_URL: httpUrl.optional(),
  TIKTOK_API_URL: httpUrl.optional(),
  TIKTOK_SCOPES: list.default([...DEFAULT_TIKTOK_SCOPES.split(',')]),
  TIKTOK_REQUIRED_SCOPES: list.default(['user.info.basic']),
  TIKTOK_DISABLE_AUTO_AUTH: z.stringbool().default(true),
  TIKTOK_PROMPT_SELECT_ACCOUNT: z.stringbool().default(true),
  TIKTOK_FORCE_AUTHENTICATION: z.stringbool().default(true),
  TIKTOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),

  PUBLIC_GATEWAY_URL: httpUrl.optional(),
  PUBLIC_ADMIN_URL: httpUrl.optional(),
  GATEWAY_API_KEYS: list
    .transform(parseGatewayApiKeys)
    .refine((keys) => keys.every((k) => k.key.length > 0), 'every entry must be name:key or a key (no empty key)')
    .refine(
      (keys) => new Set(keys.map((k) => k.name)).size === keys.length,
      'key names must be unique (a bare key at position N is named key-N)',
    )
    .optional(),
  ADMIN_API_TOKENS: list.optional(),
  ALLOWED_RETURN_ORIGINS: list.optional(),
  TOKEN_ENCRYPTION_KEYS: z
    .string()
    .refine(
      (v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .every((e) => keyringPattern.test(e) && Buffer.from(e.split(':')[1] ?? '', 'base64').length === 32),
      'must be comma-separated keyId:base64 entries of 32-byte keys',
    )
    .optional(),
  // A list for rotation: the first seals, every one opens. Secrets cannot contain ",".
  COOKIE_SECRET: list
    .refine(
      (secrets) => secrets.length > 0 && secrets.every((s) => s.length >= 32),
      'must be comma-separated secrets of at least 32 characters each (the first seals, all open)',
    )
    .refine((secrets) => new Set(secrets).size === secrets.length, 'lists the same secret twice')
    .optional(),
  CONNECT_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(1800),
  CONNECT_OUTCOME_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(4000),
  REFRESH_LEAD_SECONDS: z.coerce.number().int().min(1).default(600),
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(10).default(300),
  REFRESH_ACTIVE_WINDOW_HOURS: z.coerce.number().min(0).max(8_760).default(24),
  REFRESH_IDLE_EVERY_DAYS: z.coerce.number().min(1).max(365).default(7),
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(20),
  // Messages name the rule, never the value: the secrets must not reach a log through a config error.
  WEBHOOK_URLS: list.refine((urls) => urls.every(isHttpUrl), 'must be comma-separated http(s) URLs').optional(),
  WEBHOOK_SECRETS: list
    .refine(
      (secrets) => secrets.every(isWebhookSecret),
      'must be comma-separated whsec_<base64> secrets of 24 to 64 bytes each',
    )
    .optional(),
  // Lets processes started from anywhere (or a test) share one set of generated development secrets.
  DEV_SECRETS_FILE: z.string().refine(isAbsolute, 'must be an absolute path').optional(),
  // A request whose headers and body have not all arrived by then is answered 408 (slow clients, slowloris).
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  // The whole stop on SIGTERM/SIGINT, whatever is in flight; past it the process exits non-zero (forced).
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(20_000),
  // Bearer token for the gateway's and worker's /metrics; unset = public (keep the port internal then).
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
  // Which proxies to believe about the client's address (X-Forwarded-For): rate limits and logs key on it.
  TRUST_PROXY: z
    .string()
    .regex(
      /^(true|false|\d{1,2}|[0-9A-Fa-f:./]+(\s*,\s*[0-9A-Fa-f:./]+)*)$/,
      'true, false, a number of hops, or comma-separated proxy addresses/CIDRs',
    )
    .transform((v): boolean | number | string[] => {
      if (v === 'true' || v === 'false') return v === 'true';
      if (/^\d+$/.test(v)) return Number(v);
      return v.split(',').map((s) => s.trim());
    })
    .default(false),
});

type Env = z.infer<typeof envSchema>;

/** The name of a setting `loadConfig` reads. */
export type ConfigVariable = keyof Env;

/** Every setting `loadConfig` reads (the deployment files are checked against this list). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape) as ConfigVariable[];

/** The default value of each setting that has one, as `loadConfig` applies it. */
export const CONFIG_DEFAULTS: Partial<Record<ConfigVariable, unknown>> = envSchema.parse({});

/** The settings each service cannot run without in production. */
const requiredInProduction: Record<ServiceName, (keyof Env)[]> = {
  gateway: [
    'DATABASE_URL',
    'REDIS_URL',
    'TIKTOK_CLIENT_KEY',
    'TIKTOK_CLIENT_SECRET',
    'PUBLIC_GATEWAY_URL',
    'GATEWAY_API_KEYS',
    'ALLOWED_RETURN_ORIGINS',
    'TOKEN_ENCRYPTION_KEYS',
    'COOKIE_SECRET',
  ],
  worker: ['DATABASE_URL', 'REDIS_URL', 'TIKTOK_CLIENT_KEY', 'TIKTOK_CLIENT_SECRET', 'TOKEN_ENCRYPTION_KEYS'],
  admin: [
    'DATABASE_URL',
    'REDIS_URL',
    'ADMIN_API_TOKENS',
    // Seals the console's session cookie.
    'COOKIE_SECRET',
    'TOKEN_ENCRYPTION_KEYS',
    'TIKTOK_CLIENT_KEY',
    'TIKTOK_CLIENT_SECRET',
  ],
  sandbox: [],
  cli: ['DATABASE_URL'],
};

/** The validated configuration every app reads. Secrets are here in clear: never log this object whole. */
export interface AppConfig {
  env: 'development' | 'production' | 'test';
  service: ServiceName;
  logLevel: Env['LOG_LEVEL'];
  host: string;
  ports: { gateway: number; admin: number; workerMetrics: number; sandbox: number };
  databaseUrl: string;
  databasePoolSize: number;
  /** Postgres `statement_timeout` of the apps' pools, in ms; 0 = none. */
  databaseStatementTimeoutMs: number;
  /** DATABASE_PREPARED_STATEMENTS: statements parsed and planned once per connection (off behind PgBouncer < 1.21). */
  databasePreparedStatements: boolean;
  redisUrl: string;
  queuePrefix: string;
  tiktok: {
    clientKey: string;
    clientSecret: string;
    authUrl: string;
    apiUrl: string;
    scopes: string[];
    requiredScopes: string[];
    redirectUri: string;
    disableAutoAuth: boolean;
    promptSelectAccount: boolean;
    forceAuthentication: boolean;
    timeoutMs: number;
    /** True when no TikTok credentials were given and the bundled sandbox stands in for TikTok. */
    usingSandbox: boolean;
  };
  publicGatewayUrl: string;
  publicAdminUrl: string;
  /** GATEWAY_API_KEYS: every key acts for every user (one trust domain); the name says which one acted. */
  gatewayApiKeys: GatewayApiKey[];
  adminApiTokens: string[];
  allowedReturnOrigins: string[];
  tokenEncryptionKeys: string;
  /** The first of COOKIE_SECRET: what new cookies are sealed (and MACs made) with. */
  cookieSecret: string;
  /** Every COOKIE_SECRET, the sealing one first: cookies sealed with any of them still open (rotation). */
  cookieSecrets: string[];
  connectSessionTtlSeconds: number;
  connectOutcomeWaitMs: number;
  refreshLeadSeconds: number;
  reconcileIntervalSeconds: number;
  /**
   * The refresh policy: accounts whose access token was asked for within `activeWindowHours` are refreshed ahead of
   * expiry, the others every `idleEveryDays` at most (to keep their refresh token alive) and on demand. 0 hours = off.
   */
  refreshPolicy: { activeWindowHours: number; idleEveryDays: number };
  /** Routine REFRESHED events older than this are pruned by the worker. */
  eventRetentionDays: number;
  workerConcurrency: number;
  /**
   * Signed webhooks (Standard Webhooks) to the upstream app. `urls` empty = no webhooks: nothing is recorded.
   * `secrets[0]` signs; every secret is sent as a signature (rotation). Secrets in clear: never log them.
   */
  webhooks: { urls: string[]; secrets: string[] };
  /** Names of settings that were generated or defaulted for development, for the start-up banner. */
  generated: string[];
  /** How long a client may take to send a whole request (headers and body); also the idle-socket limit. */
  requestTimeoutMs: number;
  /** The bound of a stop (SIGTERM/SIGINT), in ms: the process has exited by then, non-zero when it had to force it. */
  shutdownTimeoutMs: number;
  /**
   * TRUST_PROXY, as Fastify's `trustProxy` takes it: false (the socket's peer is the client), true (the leftmost
   * X-Forwarded-For address), a number of proxy hops, or the proxies' addresses/CIDRs.
   */
  trustProxy: boolean | number | string[];
  /** METRICS_TOKEN: when set, gateway and worker `/metrics` want `Authorization: Bearer <it>`; null = public. */
  metricsToken: string | null;
  /** Whether NODE_ENV was set (not defaulted): development pages need it set explicitly. */
  envExplicit: boolean;
}

export interface LoadConfigOptions {
  service: ServiceName;
  /** Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * Where development secrets are kept between runs. Defaults to `DEV_SECRETS_FILE` when set, else to
   * `.dev/secrets.json` at the root of the workspace (found from the working directory), so every app started from
   * its own folder shares the same file.
   */
  devSecretsFile?: string;
  /**
   * Settings this particular command needs in production on top of its service's own list. A `cli` command that
   * decrypts tokens asks for `TOKEN_ENCRYPTION_KEYS` here, so that `db:migrate` (also `cli`) keeps running with
   * nothing but `DATABASE_URL`.
   */
  alsoRequire?: readonly ConfigVariable[];
}

function issuesFromZod(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => ({
    variable: String(issue.path[0] ?? '(environment)'),
    problem: issue.message,
  }));
}

/**
 * Parses and checks the environment once, at start-up.
 *
 * In production every setting the service needs must be present and well-formed, or a {@link ConfigError} names each
 * bad variable. In development and test, missing secrets get generated values (kept in a git-ignored file so the
 * gateway, worker and admin agree on them), and with no TikTok credentials TikTok's URLs point at the bundled sandbox.
 */
export function loadConfig(options: LoadConfigOptions): AppConfig {
  const rawEnv = options.env ?? process.env;
  // Empty strings mean "not set": docker-compose and .env files write them for unset variables.
  const cleaned = Object.fromEntries(
    Object.entries(rawEnv).filter(([, v]) => v !== undefined && v.trim() !== ''),
  ) as Record<string, string>;
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(issuesFromZod(parsed.error));
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  const issues: ConfigIssue[] = [];
  const generated: string[] = [];

  if (production) {
    for (const name of new Set([...requiredInProduction[options.service], ...(options.alsoRequire ?? [])])) {
      if (env[name] === undefined) issues.push({ variable: name, problem: 'required in production' });
    }
    if (env.PUBLIC_GATEWAY_URL?.startsWith('http://') && options.service === 'gateway') {
      issues.push({ variable: 'PUBLIC_GATEWAY_URL', problem: 'must be https in production (TikTok requires it)' });
    }
    const keyLengths = {
      GATEWAY_API_KEYS: env.GATEWAY_API_KEYS?.map((k) => k.key.length),
      ADMIN_API_TOKENS: env.ADMIN_API_TOKENS?.map((k) => k.length),
    };
    for (const [list, lengths] of Object.entries(keyLengths)) {
      if (lengths?.some((length) => length < 24)) {
        issues.push({ variable: list, problem: 'every key must be at least 24 characters' });
      }
    }
  }
  if ((env.TIKTOK_CLIENT_KEY === undefined) !== (env.TIKTOK_CLIENT_SECRET === undefined)) {
    issues.push({
      variable: env.TIKTOK_CLIENT_KEY === undefined ? 'TIKTOK_CLIENT_KEY' : 'TIKTOK_CLIENT_SECRET',
      problem: 'TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET must be set together',
    });
  }
  const origins: string[] = [];
  for (const origin of env.ALLOWED_RETURN_ORIGINS ?? []) {
    try {
      const url = new URL(origin);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('protocol');
      origins.push(url.origin);
    } catch {
      issues.push({
        variable: 'ALLOWED_RETURN_ORIGINS',
        problem: 'every entry must be an origin like https://app.example.com',
      });
      break;
    }
  }
  const webhookUrls = env.WEBHOOK_URLS ?? [];
  const webhookSecrets = env.WEBHOOK_SECRETS ?? [];
  if (webhookUrls.length > 0 && webhookSecrets.length === 0) {
    issues.push({ variable: 'WEBHOOK_SECRETS', problem: 'required when WEBHOOK_URLS is set (the first one signs)' });
  }
  if (production && webhookUrls.some((u) => !u.startsWith('https://'))) {
    issues.push({ variable: 'WEBHOOK_URLS', problem: 'every URL must be https in production' });
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const usingSandbox = env.TIKTOK_CLIENT_KEY === undefined && !production;
  const sandboxUrl = `http://127.0.0.1:${env.SANDBOX_PORT}`;
  const publicGatewayUrl = (env.PUBLIC_GATEWAY_URL ?? `http://localhost:${env.GATEWAY_PORT}`).replace(/\/+$/, '');
  const publicAdminUrl = (env.PUBLIC_ADMIN_URL ?? `http://localhost:${env.ADMIN_PORT}`).replace(/\/+$/, '');

  const dev = production
    ? undefined
    : loadDevSecrets(options.devSecretsFile ?? env.DEV_SECRETS_FILE ?? defaultDevSecretsFile(), {
        persist: env.NODE_ENV === 'development',
      });
  // In production a setting this service needs was checked above; one it does not need stays empty.
  type Value = string[] | string | GatewayApiKey[];
  const pick = (name: string, value: Value | undefined, fallback: () => Value) => {
    if (value !== undefined) return value;
    if (!dev) return name === 'TOKEN_ENCRYPTION_KEYS' ? '' : [];
    generated.push(name);
    return fallback();
  };

  const cookieSecrets = pick('COOKIE_SECRET', env.COOKIE_SECRET, () => [dev!.cookieSecret]) as string[];

  const config: AppConfig = {
    env: env.NODE_ENV,
    service: options.service,
    logLevel: env.LOG_LEVEL,
    host: env.HOST,
    ports: {
      gateway: env.GATEWAY_PORT,
      admin: env.ADMIN_PORT,
      workerMetrics: env.WORKER_METRICS_PORT,
      sandbox: env.SANDBOX_PORT,
    },
    databaseUrl: env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/tiktok_connect',
    databasePoolSize: env.DATABASE_POOL_SIZE,
    databaseStatementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    databasePreparedStatements: env.DATABASE_PREPARED_STATEMENTS,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    // On a Redis Cluster every key of the product must live in one slot (BullMQ's scripts and the connect-session
    // writes touch several keys at once): the prefix becomes a hash tag. A single server keeps the plain prefix, so an
    // existing deployment keeps its keys.
    queuePrefix: /^rediss?\+cluster:/.test(env.REDIS_URL ?? '') ? `{${env.QUEUE_PREFIX}}` : env.QUEUE_PREFIX,
    tiktok: {
      clientKey: env.TIKTOK_CLIENT_KEY ?? SANDBOX_CLIENT_KEY,
      clientSecret: env.TIKTOK_CLIENT_SECRET ?? SANDBOX_CLIENT_SECRET,
      authUrl: env.TIKTOK_AUTH_URL ?? (usingSandbox ? `${sandboxUrl}/v2/auth/authorize/` : DEFAULT_TIKTOK_AUTH_URL),
      apiUrl: (env.TIKTOK_API_URL ?? (usingSandbox ? sandboxUrl : DEFAULT_TIKTOK_API_URL)).replace(/\/+$/, ''),
      scopes: env.TIKTOK_SCOPES,
      requiredScopes: env.TIKTOK_REQUIRED_SCOPES,
      redirectUri: `${publicGatewayUrl}/auth/tiktok/callback`,
      disableAutoAuth: env.TIKTOK_DISABLE_AUTO_AUTH,
      promptSelectAccount: env.TIKTOK_PROMPT_SELECT_ACCOUNT,
      forceAuthentication: env.TIKTOK_FORCE_AUTHENTICATION,
      timeoutMs: env.TIKTOK_TIMEOUT_MS,
      usingSandbox,
    },
    publicGatewayUrl,
    publicAdminUrl,
    gatewayApiKeys: pick('GATEWAY_API_KEYS', env.GATEWAY_API_KEYS, () => [
      { name: 'key-1', key: dev!.gatewayApiKey },
    ]) as GatewayApiKey[],
    adminApiTokens: pick('ADMIN_API_TOKENS', env.ADMIN_API_TOKENS, () => [dev!.adminApiToken]) as string[],
    allowedReturnOrigins:
      env.ALLOWED_RETURN_ORIGINS !== undefined || production
        ? origins
        : (pick('ALLOWED_RETURN_ORIGINS', undefined, () => [
            // The gateway itself (its /dev demo returns there), wherever GATEWAY_PORT or PUBLIC_GATEWAY_URL put it.
            ...new Set([
              new URL(publicGatewayUrl).origin,
              `http://localhost:${env.GATEWAY_PORT}`,
              `http://127.0.0.1:${env.GATEWAY_PORT}`,
            ]),
            'http://localhost:5173',
            'http://localhost:8080',
          ]) as string[]),
    tokenEncryptionKeys: pick(
      'TOKEN_ENCRYPTION_KEYS',
      env.TOKEN_ENCRYPTION_KEYS,
      () => dev!.tokenEncryptionKeys,
    ) as string,
    cookieSecret: cookieSecrets[0] ?? '',
    cookieSecrets,
    connectSessionTtlSeconds: env.CONNECT_SESSION_TTL_SECONDS,
    connectOutcomeWaitMs: env.CONNECT_OUTCOME_WAIT_MS,
    refreshLeadSeconds: env.REFRESH_LEAD_SECONDS,
    reconcileIntervalSeconds: env.RECONCILE_INTERVAL_SECONDS,
    refreshPolicy: {
      activeWindowHours: env.REFRESH_ACTIVE_WINDOW_HOURS,
      idleEveryDays: env.REFRESH_IDLE_EVERY_DAYS,
    },
    eventRetentionDays: env.EVENT_RETENTION_DAYS,
    workerConcurrency: env.WORKER_CONCURRENCY,
    webhooks: { urls: webhookUrls, secrets: webhookSecrets },
    generated,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    trustProxy: env.TRUST_PROXY,
    metricsToken: env.METRICS_TOKEN ?? null,
    envExplicit: cleaned.NODE_ENV !== undefined,
  };
  return config;
}

/**
 * {@link loadConfig} for a process's entry point: a bad setting prints the message naming every bad variable (no
 * stack trace, no value) and exits 1.
 */
export function loadConfigOrExit(options: LoadConfigOptions): AppConfig {
  try {
    return loadConfig(options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

/**
 * The TikTok client's options from the configuration, in the shape `createTikTokClient` (@ttc/tiktok) takes, so that
 * every service builds its client the same way.
 */
export function tiktokClientOptions(tiktok: AppConfig['tiktok']) {
  return {
    clientKey: tiktok.clientKey,
    clientSecret: tiktok.clientSecret,
    authUrl: tiktok.authUrl,
    apiUrl: tiktok.apiUrl,
    timeoutMs: tiktok.timeoutMs,
    authorizeExtras: {
      disableAutoAuth: tiktok.disableAutoAuth,
      promptSelectAccount: tiktok.promptSelectAccount,
      forceAuthentication: tiktok.forceAuthentication,
    },
  };
}

/**
 * Fastify server options that bound how long a client may take: `requestTimeout` answers 408 to a request whose
 * headers and body are not complete in time, `connectionTimeout` closes a socket idle for twice that. Node checks pending requests
 * every `connectionsCheckingInterval` (30 s by default), so the interval is made a fraction of the timeout.
 */
export function serverTimeouts(requestTimeoutMs: number) {
  return {
    requestTimeout: requestTimeoutMs,
    // Longer than the request timeout, so that a slow request gets its 408 before its idle socket is cut.
    connectionTimeout: requestTimeoutMs * 2,
    http: {
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
    },
  };
}

/** A one-line, secret-free summary for start-up logs. */
export function describeConfig(config: AppConfig): Record<string, unknown> {
  return {
    env: config.env,
    service: config.service,
    tiktok: config.tiktok.usingSandbox ? `sandbox at ${config.tiktok.apiUrl}` : config.tiktok.apiUrl,
    scopes: config.tiktok.scopes.join(','),
    publicGatewayUrl: config.publicGatewayUrl,
    allowedReturnOrigins: config.allowedReturnOrigins,
    webhookEndpoints: config.webhooks.urls.length,
    // Names only: which gateway API keys exist (the keys never leave the config).
    ...(config.service === 'gateway' ? { gatewayApiKeys: config.gatewayApiKeys.map((k) => k.name) } : {}),
    generatedForDevelopment: config.generated,
  };
}
