/**
 * Account domain services shared by the gateway, the worker and the admin: storing connections, listing and
 * disconnecting accounts, and the token lifecycle (scheduled and on-demand refresh, reconciliation, revoke).
 * Summaries never carry tokens; tokens are only ever handled as ciphertext here, and decrypted only to call TikTok
 * or to hand an access token to an upstream app.
 */
export { tokenAad } from './aad.js';
export {
  applyConnection,
  CONNECT_OUTCOME_TTL_SECONDS,
  readConnectOutcome,
  waitForConnectOutcome,
} from './connect.js';
export {
  type AccountsDeps,
  type AccountsLogger,
  type AccountsObserver,
  resolveLifecycleSettings,
  type TokenLifecycleSettings,
} from './deps.js';
export { type DisconnectActor, disconnectAccount } from './disconnect.js';
export { AccountError, AccountErrorCode, isAccountError } from './errors.js';
export { type RedisLock, tryLock } from './lock.js';
export { createAccountConnectedProcessor } from './processor.js';
export { type ReconcileOptions, type ReconcileReport, reconcileRefreshJobs } from './reconcile.js';
export {
  type ReencryptStoredTokensDeps,
  type ReencryptStoredTokensOptions,
  type ReencryptStoredTokensProgress,
  type ReencryptStoredTokensReport,
  reencryptStoredTokens,
} from './reencrypt.js';
export {
  type FreshAccessToken,
  flagExpiringRefreshToken,
  getFreshAccessToken,
  needsRefresh,
  type RefreshOptions,
  type RefreshOutcome,
  type RefreshReason,
  type RefreshResult,
  readTokenRow,
  refreshAccount,
  type TokenRow,
} from './refresh.js';
export { createTokenRefreshProcessor, RefreshRescheduled, type TokenRefreshJobResult } from './refresh-processor.js';
export { createAccountRevokeProcessor, type RevokeOutcome, revokeAccountToken } from './revoke.js';
export {
  type BulkScheduleReport,
  cancelRefresh,
  computeNextRefreshAt,
  refreshLeadMs,
  retryDelayMs,
  type ScheduleResult,
  scheduleRefresh,
  scheduleRefreshJobs,
} from './schedule.js';
export {
  type AccountStatus,
  type AccountSummary,
  accountSummarySelect,
  getAccount,
  listUserAccounts,
} from './summary.js';
export { isUuid, uuidv7 } from './uuid.js';
