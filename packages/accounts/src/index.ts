/**
 * The account rules shared by the gateway, the worker and the admin, as one service per process
 * ({@link createAccounts}): storing connections, listing and disconnecting accounts, and the token lifecycle
 * (scheduled and on-demand refresh, reconciliation, revoke). Summaries never carry tokens; tokens are only ever
 * handled as ciphertext here, and decrypted only to call TikTok or to hand an access token to an upstream app.
 */
export { decryptAccountToken, legacyTokenAad, readsLegacyAad, type TokenIdentity, tokenAad } from './aad.js';
export { type Accounts, createAccounts } from './accounts.js';
export type { ConnectOutcome } from './connect.js';
export {
  type AccountsLogger,
  type AccountsOptions,
  resolveLifecycleSettings,
  type TokenLifecycleSettings,
} from './deps.js';
export type { DisconnectActor } from './disconnect.js';
export { AccountError, AccountErrorCode, isAccountError } from './errors.js';
export type { PruneEventsOptions, PruneEventsReport } from './events.js';
export { type RedisLock, tryLock } from './lock.js';
export { isOutageError, type OutageBreaker, outageKeys } from './outage.js';
export type { AccountsOutbox } from './outbox.js';
export type { ReconcileOptions, ReconcileReport } from './reconcile.js';
export {
  type ReencryptStoredTokensDeps,
  type ReencryptStoredTokensOptions,
  type ReencryptStoredTokensProgress,
  type ReencryptStoredTokensReport,
  reencryptStoredTokens,
} from './reencrypt.js';
export {
  type FreshAccessToken,
  needsRefresh,
  type RefreshOptions,
  type RefreshOutcome,
  type RefreshReason,
  type RefreshResult,
  type TokenRow,
} from './refresh.js';
export {
  type BulkScheduleReport,
  computeNextRefreshAt,
  isActiveAccount,
  type PolicyInput,
  policyNextRefreshAt,
  type RefreshJobs,
  type RefreshNowResult,
  type RefreshTiming,
  refreshLeadMs,
  retryDelayMs,
  type ScheduleResult,
} from './refresh-jobs.js';
export type { RevokeOutcome } from './revoke.js';
export {
  type AccountStatus,
  type AccountSummary,
  accountSummarySelect,
  type ListUserAccountsOptions,
} from './summary.js';
export type { ExportedEvent, UserErasure, UserExport } from './users.js';
export { isUuid, uuidv7 } from './uuid.js';
