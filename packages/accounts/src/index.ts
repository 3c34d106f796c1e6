/**
 * Account domain services shared by the gateway, the worker and the admin: storing connections, listing and
 * disconnecting accounts. Summaries never carry tokens; tokens are only ever handled as ciphertext here.
 */
export { tokenAad } from './aad.js';
export {
  applyConnection,
  CONNECT_OUTCOME_TTL_SECONDS,
  readConnectOutcome,
  waitForConnectOutcome,
} from './connect.js';
export type { AccountsDeps, AccountsLogger } from './deps.js';
export { type DisconnectActor, disconnectAccount } from './disconnect.js';
export { AccountError, AccountErrorCode, isAccountError } from './errors.js';
export { createAccountConnectedProcessor } from './processor.js';
export {
  type AccountStatus,
  type AccountSummary,
  accountSummarySelect,
  getAccount,
  listUserAccounts,
} from './summary.js';
export { isUuid, uuidv7 } from './uuid.js';
