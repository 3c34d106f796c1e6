/**
 * @ttc/tiktok: a small client for TikTok Login Kit (OAuth v2) and user info, with one error catalogue whose
 * errors say whether retrying can help.
 */
export {
  type CallbackCode,
  type CallbackError,
  type CallbackQueryInput,
  type CallbackResult,
  parseCallbackQuery,
  splitScopes,
} from './callback.js';
export {
  type AuthorizeExtras,
  type AuthorizeUrlParams,
  type CallOptions,
  createTikTokClient,
  DEFAULT_API_URL,
  DEFAULT_AUTH_URL,
  DEFAULT_TIMEOUT_MS,
  type ExchangeCodeParams,
  type TikTokClient,
  type TikTokClientOptions,
  type TikTokEndpoints,
  type TikTokUser,
  type TokenSet,
} from './client.js';
export {
  classifyTikTokError,
  isPermanentTikTokError,
  isTikTokError,
  isTransientTikTokError,
  TIKTOK_ERROR_KINDS,
  TIKTOK_ERROR_STRINGS,
  TikTokError,
  TikTokErrorCode,
  type TikTokErrorDetails,
  type TikTokErrorKind,
} from './errors.js';
export { createPkcePair, isTikTokPkceChallenge, type PkcePair, pkceChallenge } from './pkce.js';
export {
  DEFAULT_USER_INFO_FIELDS,
  USER_INFO_FIELDS,
  USER_INFO_FIELDS_BY_SCOPE,
  type UserInfoField,
} from './schemas.js';
