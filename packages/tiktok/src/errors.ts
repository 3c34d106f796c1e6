/**
 * Stable codes for every error this package throws. Callers branch on `code` (or on
 * {@link TikTokError.permanent} / {@link TikTokError.transient}), never on message text.
 */
export const TikTokErrorCode = {
  // --- Reported by TikTok (OAuth `error` string or API `error.code`) ---
  /** `invalid_request`: a malformed request (missing/duplicated parameter, redirect_uri mismatch, ...). */
  INVALID_REQUEST: 'TIKTOK_INVALID_REQUEST',
  /** `invalid_client`: wrong client key or secret. */
  INVALID_CLIENT: 'TIKTOK_INVALID_CLIENT',
  /** `invalid_grant`: the code or refresh token is expired, revoked, already used or not ours: re-authorize. */
  INVALID_GRANT: 'TIKTOK_INVALID_GRANT',
  /** `unauthorized_client`: the app may not use this grant. */
  UNAUTHORIZED_CLIENT: 'TIKTOK_UNAUTHORIZED_CLIENT',
  /** `unsupported_grant_type`. */
  UNSUPPORTED_GRANT_TYPE: 'TIKTOK_UNSUPPORTED_GRANT_TYPE',
  /** `invalid_scope`. */
  INVALID_SCOPE: 'TIKTOK_INVALID_SCOPE',
  /** `access_denied`: the user (or TikTok) refused the authorization. */
  ACCESS_DENIED: 'TIKTOK_ACCESS_DENIED',
  /** `access_token_invalid`: the access token is expired, revoked or malformed. */
  ACCESS_TOKEN_INVALID: 'TIKTOK_ACCESS_TOKEN_INVALID',
  /** `scope_not_authorized`: the user did not grant a scope the call needs (e.g. `username` without `user.info.profile`). */
  SCOPE_NOT_AUTHORIZED: 'TIKTOK_SCOPE_NOT_AUTHORIZED',
  /** `scope_permission_missed`: the app itself lacks the scope. */
  SCOPE_PERMISSION_MISSED: 'TIKTOK_SCOPE_PERMISSION_MISSED',
  /** `invalid_params`: the API refused the parameters (e.g. an unknown user-info field). */
  INVALID_PARAMS: 'TIKTOK_INVALID_PARAMS',
  /** `rate_limit_exceeded` or HTTP 429. */
  RATE_LIMITED: 'TIKTOK_RATE_LIMITED',
  /** `server_error`, `internal_error` or an HTTP 5xx without a more precise error. */
  SERVER_ERROR: 'TIKTOK_SERVER_ERROR',
  /** `temporarily_unavailable` (or HTTP 503 without a more precise error). */
  TEMPORARILY_UNAVAILABLE: 'TIKTOK_TEMPORARILY_UNAVAILABLE',
  /** TikTok reported an error this client does not know, or answered an unexpected HTTP status. */
  UNEXPECTED_ERROR: 'TIKTOK_UNEXPECTED_ERROR',

  // --- Raised by this client ---
  /** The request never got a complete answer (DNS, connection refused/reset, socket closed). */
  NETWORK_ERROR: 'TIKTOK_NETWORK_ERROR',
  /** No complete answer within `timeoutMs`. */
  TIMEOUT: 'TIKTOK_TIMEOUT',
  /** The caller's own `AbortSignal` aborted the call. */
  ABORTED: 'TIKTOK_ABORTED',
  /** A success answer that is not JSON or does not have the documented shape. */
  INVALID_RESPONSE: 'TIKTOK_INVALID_RESPONSE',
  /** The OAuth callback query is malformed (missing/duplicated/oversized parameters). */
  INVALID_CALLBACK: 'TIKTOK_INVALID_CALLBACK',
  /** `createTikTokClient` was given bad options (checked once, at creation). */
  INVALID_OPTIONS: 'TIKTOK_INVALID_OPTIONS',
  /** A method was called with a bad argument (a programming error, not bad data from TikTok). */
  INVALID_ARGUMENT: 'TIKTOK_INVALID_ARGUMENT',
} as const;

export type TikTokErrorCode = (typeof TikTokErrorCode)[keyof typeof TikTokErrorCode];

/**
 * How an error should be handled by code that retries:
 * - `permanent`: the same call will fail the same way; do not retry (e.g. `invalid_grant` → re-authorization needed).
 * - `transient`: the same call may succeed later; retry with backoff.
 * - `unknown`: neither can be said (unexpected answers, caller aborts); a bounded number of retries is reasonable.
 */
export type TikTokErrorKind = 'permanent' | 'transient' | 'unknown';

/** The classification of every code: one table, so the rule is visible and tested in one place. */
export const TIKTOK_ERROR_KINDS: Readonly<Record<TikTokErrorCode, TikTokErrorKind>> = Object.freeze({
  TIKTOK_INVALID_REQUEST: 'permanent',
  TIKTOK_INVALID_CLIENT: 'permanent',
  TIKTOK_INVALID_GRANT: 'permanent',
  TIKTOK_UNAUTHORIZED_CLIENT: 'permanent',
  TIKTOK_UNSUPPORTED_GRANT_TYPE: 'permanent',
  TIKTOK_INVALID_SCOPE: 'permanent',
  TIKTOK_ACCESS_DENIED: 'permanent',
  TIKTOK_ACCESS_TOKEN_INVALID: 'permanent',
  TIKTOK_SCOPE_NOT_AUTHORIZED: 'permanent',
  TIKTOK_SCOPE_PERMISSION_MISSED: 'permanent',
  TIKTOK_INVALID_PARAMS: 'permanent',
  TIKTOK_RATE_LIMITED: 'transient',
  TIKTOK_SERVER_ERROR: 'transient',
  TIKTOK_TEMPORARILY_UNAVAILABLE: 'transient',
  TIKTOK_UNEXPECTED_ERROR: 'unknown',
  TIKTOK_NETWORK_ERROR: 'transient',
  TIKTOK_TIMEOUT: 'transient',
  TIKTOK_ABORTED: 'unknown',
  // A garbled success answer is most often a proxy or an outage page; but a token call may have rotated the
  // refresh token server-side before the answer was lost, so this cannot honestly be called transient.
  TIKTOK_INVALID_RESPONSE: 'unknown',
  TIKTOK_INVALID_CALLBACK: 'permanent',
  TIKTOK_INVALID_OPTIONS: 'permanent',
  TIKTOK_INVALID_ARGUMENT: 'permanent',
});

/** TikTok's error strings (OAuth `error` and API `error.code`) and the code each maps to. */
export const TIKTOK_ERROR_STRINGS: Readonly<Record<string, TikTokErrorCode>> = Object.freeze({
  invalid_request: TikTokErrorCode.INVALID_REQUEST,
  invalid_client: TikTokErrorCode.INVALID_CLIENT,
  invalid_grant: TikTokErrorCode.INVALID_GRANT,
  unauthorized_client: TikTokErrorCode.UNAUTHORIZED_CLIENT,
  unsupported_grant_type: TikTokErrorCode.UNSUPPORTED_GRANT_TYPE,
  invalid_scope: TikTokErrorCode.INVALID_SCOPE,
  access_denied: TikTokErrorCode.ACCESS_DENIED,
  server_error: TikTokErrorCode.SERVER_ERROR,
  temporarily_unavailable: TikTokErrorCode.TEMPORARILY_UNAVAILABLE,
  access_token_invalid: TikTokErrorCode.ACCESS_TOKEN_INVALID,
  scope_not_authorized: TikTokErrorCode.SCOPE_NOT_AUTHORIZED,
  scope_permission_missed: TikTokErrorCode.SCOPE_PERMISSION_MISSED,
  invalid_params: TikTokErrorCode.INVALID_PARAMS,
  rate_limit_exceeded: TikTokErrorCode.RATE_LIMITED,
  internal_error: TikTokErrorCode.SERVER_ERROR,
});

/** Details a {@link TikTokError} carries besides its code and message. */
export interface TikTokErrorDetails {
  /** TikTok's own error string (`invalid_grant`, `access_token_invalid`, ...), when TikTok sent one. */
  error?: string | undefined;
  /** TikTok's `error_description` / `error.message`, with anything token-like scrubbed. */
  errorDescription?: string | undefined;
  /** TikTok's `log_id`: quote it to TikTok support. */
  logId?: string | undefined;
  /** HTTP status of the answer, when there was one (an error sent with 200 keeps 200). */
  status?: number | undefined;
  /** Seconds to wait before retrying, from a `Retry-After` header, when the answer had one. */
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

/**
 * The only error type this package throws. Messages and fields never contain tokens, codes or the client
 * secret, so the error is safe to log whole.
 */
export class TikTokError extends Error {
  override readonly name = 'TikTokError';
  readonly code: TikTokErrorCode;
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  readonly logId: string | undefined;
  readonly status: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** `true` when retrying the same call cannot help (see {@link TIKTOK_ERROR_KINDS}). */
  readonly permanent: boolean;
  /** `true` when retrying later may succeed (see {@link TIKTOK_ERROR_KINDS}). */
  readonly transient: boolean;

  constructor(code: TikTokErrorCode, message: string, details: TikTokErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.error = details.error;
    this.errorDescription = details.errorDescription;
    this.logId = details.logId;
    this.status = details.status;
    this.retryAfterSeconds = details.retryAfterSeconds;
    const kind = TIKTOK_ERROR_KINDS[code];
    this.permanent = kind === 'permanent';
    this.transient = kind === 'transient';
  }

  /** `'permanent'`, `'transient'` or `'unknown'`. */
  get kind(): TikTokErrorKind {
    return TIKTOK_ERROR_KINDS[this.code];
  }
}

/** Narrows `error` to a {@link TikTokError}, optionally with a given code. */
export function isTikTokError(error: unknown, code?: TikTokErrorCode): error is TikTokError {
  return error instanceof TikTokError && (code === undefined || error.code === code);
}

/** `true` for a {@link TikTokError} that retrying cannot fix (`invalid_grant`, `invalid_client`, ...). */
export function isPermanentTikTokError(error: unknown): error is TikTokError {
  return error instanceof TikTokError && error.permanent;
}

/** `true` for a {@link TikTokError} worth retrying with backoff (network, timeout, 5xx, 429, ...). */
export function isTransientTikTokError(error: unknown): error is TikTokError {
  return error instanceof TikTokError && error.transient;
}

/**
 * Picks the code for an error TikTok reported: its error string decides when known; otherwise the HTTP status
 * does (429 → rate limited, 503 → temporarily unavailable, other 5xx → server error).
 */
export function classifyTikTokError(error: string | undefined, status: number | undefined): TikTokErrorCode {
  const known = error === undefined ? undefined : TIKTOK_ERROR_STRINGS[error];
  if (known !== undefined) return known;
  if (status === 429) return TikTokErrorCode.RATE_LIMITED;
  if (status === 503) return TikTokErrorCode.TEMPORARILY_UNAVAILABLE;
  if (status !== undefined && status >= 500 && status <= 599) return TikTokErrorCode.SERVER_ERROR;
  return TikTokErrorCode.UNEXPECTED_ERROR;
}

// TikTok's tokens and codes look like `act.…`, `rft.…`, `clt.…`; scrub anything of that shape from server-provided
// text in case an error description ever echoes one back.
const TOKEN_LIKE = /\b(?:act|rft|clt)\.[A-Za-z0-9!*._~%+/=-]+/g;

/** Removes token-like text and the given secret values from text that ends up in an error. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(TOKEN_LIKE, '[redacted]');
  for (const secret of secrets) {
    // Short values would blank out ordinary words; secrets and tokens are never that short.
    if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  }
  return out;
}
