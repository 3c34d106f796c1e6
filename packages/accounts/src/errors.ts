/** Stable codes of every error this package throws; callers map them to HTTP statuses or GraphQL errors. */
export const AccountErrorCode = {
  /** No such account, or it belongs to another user (never revealed as such). */
  NOT_FOUND: 'ACCOUNT_NOT_FOUND',
  /** An account id that is not a UUID: it can never exist, so it is bad input rather than a miss. */
  INVALID_ID: 'ACCOUNT_INVALID_ID',
  /** An `account.connected` payload that does not match the shared schema. Retrying cannot fix it. */
  INVALID_PAYLOAD: 'ACCOUNT_INVALID_PAYLOAD',
  /** The accounts tables are missing: the database has not been migrated (`pnpm db:migrate`). */
  SCHEMA_MISSING: 'ACCOUNT_SCHEMA_MISSING',
  /** TikTok refused the refresh token (`invalid_grant`): the user has to connect the account again. */
  REAUTH_REQUIRED: 'ACCOUNT_REAUTH_REQUIRED',
  /** The account was disconnected: it has no tokens any more. */
  DISCONNECTED: 'ACCOUNT_DISCONNECTED',
  /** The access token has expired (or is about to) and TikTok could not refresh it right now; retry later. */
  REFRESH_UNAVAILABLE: 'ACCOUNT_REFRESH_UNAVAILABLE',
  /** A refresh or revoke was asked of deps built without a TikTok client (a wiring mistake). */
  TIKTOK_CLIENT_MISSING: 'ACCOUNT_TIKTOK_CLIENT_MISSING',
} as const;

export type AccountErrorCode = (typeof AccountErrorCode)[keyof typeof AccountErrorCode];

/** The error of the account services. Messages never contain tokens or ciphertexts. */
export class AccountError extends Error {
  override readonly name = 'AccountError';
  readonly code: AccountErrorCode;

  constructor(code: AccountErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Narrows `error` to an {@link AccountError}, optionally of one code. */
export function isAccountError(error: unknown, code?: AccountErrorCode): error is AccountError {
  return error instanceof AccountError && (code === undefined || error.code === code);
}
