import type { AccountRevokePayload } from '@ttc/queue';
import { applyConnection, type ConnectOutcome, recordConnectionFailed } from './connect.js';
import type { AccountsContext, AccountsOptions, TokenLifecycleSettings } from './deps.js';
import { resolveLifecycleSettings } from './deps.js';
import { type DisconnectActor, disconnectAccount } from './disconnect.js';
import { type PruneEventsOptions, type PruneEventsReport, pruneRoutineEvents } from './events.js';
import { createOutageBreaker, type OutageBreaker } from './outage.js';
import { type AccountsOutbox, createAccountsOutbox } from './outbox.js';
import { type ReconcileOptions, type ReconcileReport, reconcileRefreshJobs } from './reconcile.js';
import {
  type FreshAccessToken,
  flagExpiringRefreshToken,
  getFreshAccessToken,
  type RefreshOptions,
  type RefreshResult,
  readTokenRow,
  refreshAccount,
  type TokenRow,
} from './refresh.js';
import { createRefreshJobs, type RefreshJobs } from './refresh-jobs.js';
import { type RevokeOutcome, revokeAccountToken } from './revoke.js';
import { type AccountSummary, getAccount, type ListUserAccountsOptions, listUserAccounts } from './summary.js';
import { eraseUser, exportUser, type UserErasure, type UserExport } from './users.js';

/**
 * The account rules, as one service per process: storing connections, reading and disconnecting accounts, and the
 * token lifecycle. It owns the clients it was given, the lifecycle settings, the clock, the single flight of
 * refreshes and the refresh jobs; apps build it once (`createAccounts`) and call its methods.
 *
 * Summaries never carry tokens; tokens are handled as ciphertext and decrypted only to call TikTok or to hand an
 * access token to an upstream app.
 */
export interface Accounts {
  /** The effective lifecycle settings. */
  readonly settings: TokenLifecycleSettings;
  /** The service's clock (ms since the epoch). */
  readonly now: () => number;
  /** The account's one `token.refresh` job: when it is due, schedule, refresh now, cancel, restore in bulk. */
  readonly refreshJobs: RefreshJobs;
  /** The TikTok outage breaker shared through Redis (outage.ts). */
  readonly outage: OutageBreaker;
  /** The webhook outbox (for `user.erased` in an erasure's transaction, and enqueueing after its commit). */
  readonly outbox: AccountsOutbox;

  /**
   * Stores a connection (adds the account, or updates the same one), idempotent per `connectionId`; validates the
   * `account.connected` payload (`AccountConnectedPayload`) first: `ACCOUNT_INVALID_PAYLOAD` when it does not match.
   */
  applyConnection(payload: unknown): Promise<ConnectOutcome>;
  /**
   * Tells the user's connect page that a connection could not be stored (its job failed for good), so the page says
   * so instead of "Adding…". Best effort: nothing is recorded for a payload without the session and connection ids.
   */
  recordConnectionFailed(payload: unknown): Promise<void>;
  /** Disconnects an account: tokens wiped, refresh cancelled, revoke at TikTok queued (or skipped, with why). */
  disconnect(p: {
    accountId: string;
    userId?: string;
    actor: DisconnectActor;
    reason?: string;
    /** The name of the gateway API key behind an `upstream` disconnect, recorded in the event's `data.apiKey`. */
    apiKey?: string | null;
  }): Promise<AccountSummary>;
  /** One account's public view, or null. Throws `ACCOUNT_INVALID_ID` for a malformed id. */
  get(accountId: string): Promise<AccountSummary | null>;
  /** A user's accounts, newest first; disconnected ones only when asked for, or those of one `status`. */
  listUserAccounts(userId: string, opts?: ListUserAccountsOptions): Promise<AccountSummary[]>;
  /**
   * Erases a user: accounts, events, connect sessions and refresh jobs; revokes at TikTok by the disconnect's rule.
   * Returns what was erased (for a `user.erased` notification); never a token.
   */
  eraseUser(userId: string): Promise<UserErasure>;
  /** Everything stored about a user's connections (accounts and events), never a token or ciphertext. */
  exportUser(userId: string): Promise<UserExport>;

  /** Refreshes if due (or forced), one at a time per account across processes. */
  refresh(accountId: string, opts: RefreshOptions): Promise<RefreshResult>;
  /** A valid access token for an upstream app, refreshed first when it expires soon. */
  getFreshAccessToken(accountId: string, opts?: { minValidityMs?: number }): Promise<FreshAccessToken>;
  /** Revokes a disconnected account's token at TikTok (or records why not). */
  revoke(payload: AccountRevokePayload, options?: { signal?: AbortSignal }): Promise<RevokeOutcome>;
  /** Restores every ACTIVE account's refresh job that Redis lost. Null when another worker holds the lock. */
  reconcile(opts?: ReconcileOptions): Promise<ReconcileReport | null>;
  /** Deletes routine REFRESHED events older than the retention, in bounded batches; keeps every change of state. */
  pruneEvents(opts: PruneEventsOptions): Promise<PruneEventsReport>;
  /** Records REFRESH_TOKEN_EXPIRING once per refresh token that expires soon. */
  flagExpiringRefreshToken(accountId: string): Promise<boolean>;
  /** The row the lifecycle works with, ciphertexts included: for this package's callers that need them (tests). */
  readTokenRow(accountId: string): Promise<TokenRow | null>;
}

/** Builds the account service; build it once per process and share it (single flight is per service). */
export function createAccounts(options: AccountsOptions): Accounts {
  const { lifecycle: _lifecycle, refreshLeadSeconds: _lead, now: clock, webhooks, ...clients } = options;
  const settings = resolveLifecycleSettings(options);
  const now = clock ?? Date.now;
  const refreshJobs = createRefreshJobs({ queues: options.queues, redis: options.redis, settings, now });
  const outbox = createAccountsOutbox({
    endpoints: webhooks?.endpoints ?? [],
    queues: options.queues,
    logger: options.logger,
  });
  const outage = createOutageBreaker({ ...clients, settings, now });
  const ctx: AccountsContext = { ...clients, settings, now, refreshJobs, outbox, outage, refreshFlights: new Map() };
  return {
    settings,
    now,
    refreshJobs,
    outage,
    outbox,
    applyConnection: (payload) => applyConnection(ctx, payload),
    recordConnectionFailed: (payload) => recordConnectionFailed(ctx, payload),
    disconnect: (p) => disconnectAccount(ctx, p),
    get: (accountId) => getAccount(ctx, accountId),
    listUserAccounts: (userId, opts) => listUserAccounts(ctx, userId, opts),
    eraseUser: (userId) => eraseUser(ctx, userId),
    exportUser: (userId) => exportUser(ctx, userId),
    refresh: (accountId, opts) => refreshAccount(ctx, accountId, opts),
    getFreshAccessToken: (accountId, opts) => getFreshAccessToken(ctx, accountId, opts),
    revoke: (payload, options) => revokeAccountToken(ctx, payload, options),
    reconcile: (opts) => reconcileRefreshJobs(ctx, opts),
    pruneEvents: (opts) => pruneRoutineEvents(ctx, opts),
    flagExpiringRefreshToken: (accountId) => flagExpiringRefreshToken(ctx, accountId),
    readTokenRow: (accountId) => readTokenRow(ctx, accountId),
  };
}
