import type { Keyring } from '@ttc/crypto';
import type { PrismaClient } from '@ttc/db';
import type { Queues, RedisClient } from '@ttc/queue';
import type { TikTokClient } from '@ttc/tiktok';
import type { OutageBreaker } from './outage.js';
import type { AccountsOutbox } from './outbox.js';
import type { RefreshResult } from './refresh.js';
import type { RefreshJobs } from './refresh-jobs.js';

/** The subset of a pino logger the services use; objects passed to it never hold tokens. */
export interface AccountsLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Tuning of the token lifecycle. Every field has a default (see {@link resolveLifecycleSettings}); tests shorten
 * the retry delays, production keeps the defaults.
 */
export interface TokenLifecycleSettings {
  /** Upper bound of how long before the access token expires its refresh is due. Default `refreshLeadSeconds` (600). */
  refreshLeadSeconds: number;
  /** The lead never exceeds this share of the token's lifetime, so short-lived tokens are refreshed too. Default 0.25. */
  leadShare: number;
  /** Random extra lead, as a share of the lead, so that accounts connected together do not refresh together. Default 0.1. */
  jitterShare: number;
  /**
   * Lifetime of the per-account refresh lock, extended every third of it while its holder works; every TikTok call
   * under it is bounded to a third of it. Default 60 s.
   */
  lockTtlMs: number;
  /** How long a caller waits for another process's refresh of the same account. Default 20 s. */
  lockWaitMs: number;
  /** Time budget of one TikTok refresh call (capped at a third of `lockTtlMs`). Default 10 s. */
  tiktokTimeoutMs: number;
  /** First retry delay after a failed refresh; doubles per consecutive failure. Default 2 s. */
  retryBaseMs: number;
  /** Longest retry delay: failing refreshes are retried at least this often, for as long as the account is ACTIVE. Default 5 min. */
  retryMaxMs: number;
  /** A refresh token expiring within this is flagged with a REFRESH_TOKEN_EXPIRING event. Default 7 days. */
  refreshTokenWarningSeconds: number;
  /** Default validity an access-token request asks for: a token expiring sooner is refreshed first. Default 300 s. */
  minValiditySeconds: number;
  /** During a TikTok outage, one failing refresh per this interval probes TikTok (see outage.ts). Default 5 s. */
  outageProbeMs: number;
  /**
   * The refresh policy (`REFRESH_ACTIVE_WINDOW_HOURS`): an account whose access token was asked for within this is
   * refreshed ahead of expiry; any other is only kept alive (see `idleRefreshEveryMs`) and refreshed on demand when
   * asked for. 0 turns the policy off: every account is refreshed ahead of expiry. Default 24 hours.
   */
  activeWindowMs: number;
  /**
   * An idle account is refreshed at least this often (`REFRESH_IDLE_EVERY_DAYS`), and in any case by half its refresh
   * token's remaining lifetime, so its refresh chain never lapses. Default 7 days.
   */
  idleRefreshEveryMs: number;
  /**
   * "Asked for" is written to the row only when the stored time is older than this, so the access-token path writes
   * at most once per account per interval (capped at a quarter of the active window). Default 10 minutes.
   */
  accessTouchMs: number;
}

/** What `createAccounts` needs; every process builds its account service once from these. */
export interface AccountsOptions {
  prisma: PrismaClient;
  keyring: Keyring;
  /** A plain-command connection (role `client`), for connect results and locks. */
  redis: RedisClient;
  queues: Queues;
  /** The BullMQ prefix; connect-session and lock keys live under it too. */
  queuePrefix: string;
  logger?: AccountsLogger;
  /** How long before the access token expires its refresh is due at most (`config.refreshLeadSeconds`); default 600. */
  refreshLeadSeconds?: number;
  /** Needed by refreshes and revokes (worker, gateway access-token route); the connect path does without. */
  tiktok?: TikTokClient;
  /** Overrides of the token lifecycle defaults. */
  lifecycle?: Partial<TokenLifecycleSettings>;
  /**
   * Signed webhooks: the configured endpoints (`config.webhooks.urls`). Account changes record their webhook events
   * in the same statement; none configured (the default) = nothing recorded.
   */
  webhooks?: { endpoints: readonly string[] };
  /** Milliseconds since the epoch; every rule of this package reads time here, so tests can move it. Default `Date.now`. */
  now?: () => number;
}

/** The resolved options every internal function of this package receives; one per `createAccounts` call. */
export interface AccountsContext
  extends Omit<AccountsOptions, 'lifecycle' | 'refreshLeadSeconds' | 'now' | 'webhooks'> {
  /** The webhook outbox: endpoints, `user.erased`, enqueueing after commits. */
  outbox: AccountsOutbox;
  settings: TokenLifecycleSettings;
  now: () => number;
  refreshJobs: RefreshJobs;
  /** The shared TikTok outage breaker (outage.ts): probes while TikTok is down, promotes refreshes once it is back. */
  outage: OutageBreaker;
  /** Refreshes in flight in this service, by account (single flight): concurrent callers share one attempt. */
  refreshFlights: Map<string, Promise<RefreshResult>>;
}

/** The effective settings: the overrides over the defaults. */
export function resolveLifecycleSettings(
  options: Pick<AccountsOptions, 'refreshLeadSeconds' | 'lifecycle'>,
): TokenLifecycleSettings {
  return {
    refreshLeadSeconds: options.refreshLeadSeconds ?? 600,
    leadShare: 0.25,
    jitterShare: 0.1,
    lockTtlMs: 60_000,
    lockWaitMs: 20_000,
    tiktokTimeoutMs: 10_000,
    retryBaseMs: 2_000,
    retryMaxMs: 300_000,
    refreshTokenWarningSeconds: 7 * 86_400,
    minValiditySeconds: 300,
    outageProbeMs: 5_000,
    activeWindowMs: 24 * 3_600_000,
    idleRefreshEveryMs: 7 * 86_400_000,
    accessTouchMs: 10 * 60_000,
    ...options.lifecycle,
  };
}
