import { isTikTokError, TIKTOK_ERROR_STRINGS, TikTokErrorCode } from '@ttc/tiktok';

export const MISSING_SCOPE_REASON =
  'TikTok did not grant the permission to read your profile — please allow it when TikTok asks, and try again.';

/** What to tell the person when TikTok (or the way to it) failed; never TikTok's raw text. */
export function reasonForTikTokCode(code: string | undefined): string {
  switch (code) {
    case TikTokErrorCode.INVALID_GRANT:
      return 'TikTok says this sign-in has expired or was already used. Please try again.';
    case TikTokErrorCode.TIMEOUT:
      return 'TikTok took too long to answer. Please try again in a moment.';
    case TikTokErrorCode.NETWORK_ERROR:
      return 'We could not reach TikTok. Please try again in a moment.';
    case TikTokErrorCode.RATE_LIMITED:
      return 'TikTok is receiving too many requests right now. Please try again in a minute.';
    case TikTokErrorCode.SERVER_ERROR:
    case TikTokErrorCode.TEMPORARILY_UNAVAILABLE:
      return 'TikTok had a problem on its side. Please try again in a moment.';
    case TikTokErrorCode.INVALID_CLIENT:
    case TikTokErrorCode.UNAUTHORIZED_CLIENT:
    case TikTokErrorCode.SCOPE_PERMISSION_MISSED:
    case TikTokErrorCode.INVALID_SCOPE:
      return "TikTok refused this app's configuration. Please contact the app's support.";
    case TikTokErrorCode.SCOPE_NOT_AUTHORIZED:
      return MISSING_SCOPE_REASON;
    case TikTokErrorCode.INVALID_REQUEST:
      return 'TikTok could not complete the sign-in. Please try again.';
    default:
      return 'TikTok returned an unexpected answer. Please try again.';
  }
}

export function reasonForError(error: unknown): string {
  if (isTikTokError(error)) return reasonForTikTokCode(error.code);
  return 'Something went wrong while connecting your account. Please try again.';
}

/** For `?error=` on the callback (other than access_denied). */
export function reasonForAuthorizeError(error: string): string {
  return reasonForTikTokCode(TIKTOK_ERROR_STRINGS[error]);
}
