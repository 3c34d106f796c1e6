import type { AccountError, AccountErrorCode } from '@ttc/accounts';
import { isDatabaseUnavailable } from '@ttc/db';
import { isRedisUnavailable } from '@ttc/queue';
import mercurius from 'mercurius';

/**
 * Every code the admin answers with: GraphQL's `extensions.code`, and `error.code` of the HTTP routes' JSON bodies.
 * Clients switch on these, never on messages, so they only ever gain members. {@link adminError} and
 * {@link errorBody} take nothing else, so a code missing here does not compile.
 */
export const AdminErrorCode = {
  /** No admin token, an unknown one, or an expired console session. HTTP 401. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** A cookie-authenticated request without the console's CSRF header, or from another site. HTTP 403. */
  CSRF_REJECTED: 'CSRF_REJECTED',
  /** An argument or variable that can never be valid (bad cursor, `first` out of range, malformed id). */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The body is not a GraphQL request (not JSON, no `query`). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** The query is not valid GraphQL syntax. */
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** The query does not match the schema (unknown field, wrong argument type, …). */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  /** The query nests fields deeper than the configured limit. */
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  /** The query's estimated cost (fields × page sizes) exceeds the configured limit. */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  ACCOUNT_NOT_FOUND: 'ACCOUNT_NOT_FOUND',
  /** The account is disconnected: it has no tokens left to refresh. Connect it again instead. */
  ACCOUNT_DISCONNECTED: 'ACCOUNT_DISCONNECTED',
  /** TikTok refused the refresh token earlier: only the user can fix this by connecting again. */
  ACCOUNT_REAUTH_REQUIRED: 'ACCOUNT_REAUTH_REQUIRED',
  /** No webhook delivery with this id. */
  WEBHOOK_DELIVERY_NOT_FOUND: 'WEBHOOK_DELIVERY_NOT_FOUND',
  /** Redis did not accept the job; retry later. */
  QUEUE_UNAVAILABLE: 'QUEUE_UNAVAILABLE',
  /**
   * Postgres or Redis is down, restarting or too slow: retry after the `Retry-After` seconds. HTTP 503, also for
   * GraphQL (with whatever partial data could be read).
   */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** Anything unexpected. The message is generic; details are in the server log under the request id. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** HTTP routes only: no such route, or no such console asset. HTTP 404. */
  NOT_FOUND: 'NOT_FOUND',
  /** HTTP routes only: too many console login attempts from one client. HTTP 429. */
  RATE_LIMITED: 'RATE_LIMITED',
} as const;
export type AdminErrorCode = (typeof AdminErrorCode)[keyof typeof AdminErrorCode];

const CODES: ReadonlySet<string> = new Set(Object.values(AdminErrorCode));

/** Narrows a code read from an error (an `extensions.code`, say) to one of the catalogue's. */
export function isAdminErrorCode(value: unknown): value is AdminErrorCode {
  return typeof value === 'string' && CODES.has(value);
}

/** HTTP status for a request-level error (one that stops the whole request, so there is no `data`). */
export const statusForCode: Partial<Record<AdminErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  CSRF_REJECTED: 403,
  BAD_USER_INPUT: 400,
  BAD_REQUEST: 400,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  QUERY_TOO_DEEP: 400,
  QUERY_TOO_COMPLEX: 400,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
};

/** Seconds a client is told to wait (`Retry-After`) when the admin answers SERVICE_UNAVAILABLE or QUEUE_UNAVAILABLE. */
export const RETRY_AFTER_SECONDS = 5;

export const SERVICE_UNAVAILABLE_MESSAGE =
  'The admin service is temporarily unavailable (database or Redis); retry shortly';

/**
 * Whether `error` says Postgres or Redis is unavailable: the one place the admin decides it, for GraphQL and for the
 * HTTP routes alike.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  return isDatabaseUnavailable(error) || isRedisUnavailable(error);
}

/** A GraphQL error with a stable `extensions.code` (Mercurius copies extensions into the response). */
export function adminError(
  code: AdminErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
  options?: { cause?: unknown },
): InstanceType<typeof mercurius.ErrorWithProps> {
  const error = new mercurius.ErrorWithProps(message, { code, ...extra }, statusForCode[code] ?? 200);
  if (options?.cause !== undefined) (error as Error).cause = options.cause;
  return error;
}

/** The body every non-GraphQL route answers errors with. */
export function errorBody(code: AdminErrorCode, message: string): { error: { code: AdminErrorCode; message: string } } {
  return { error: { code, message } };
}

/** How the API words an account-service error; null: not the client's to know (an internal error). */
type AccountErrorAnswer = { code: AdminErrorCode; message: string; extra?: Record<string, unknown> } | null;

/**
 * The admin API's answer to each error of the account services, applied to every resolver's errors by the GraphQL
 * error formatter, so resolvers call the services and let errors propagate. A `Record` on purpose: an account error
 * code added later does not compile until it is placed here.
 */
const ACCOUNT_ERRORS: Record<AccountErrorCode, AccountErrorAnswer> = {
  ACCOUNT_NOT_FOUND: { code: 'ACCOUNT_NOT_FOUND', message: 'Account not found' },
  ACCOUNT_INVALID_ID: { code: 'BAD_USER_INPUT', message: 'id must be an account id (UUID)', extra: { argument: 'id' } },
  ACCOUNT_DISCONNECTED: {
    code: 'ACCOUNT_DISCONNECTED',
    message: 'The account is disconnected: it has no tokens to refresh',
  },
  ACCOUNT_REAUTH_REQUIRED: {
    code: 'ACCOUNT_REAUTH_REQUIRED',
    message: 'TikTok refused this account’s refresh token: the user has to connect it again',
  },
  // The admin does not refresh synchronously; the others are faults of wiring or data, never of the request.
  ACCOUNT_REFRESH_UNAVAILABLE: null,
  ACCOUNT_INVALID_PAYLOAD: null,
  ACCOUNT_SCHEMA_MISSING: null,
  ACCOUNT_TIKTOK_CLIENT_MISSING: null,
};

/** The GraphQL error for an account-service error, or null when it is to be answered as an internal error. */
export function fromAccountError(error: AccountError): ReturnType<typeof adminError> | null {
  const answer = ACCOUNT_ERRORS[error.code];
  return answer === null ? null : adminError(answer.code, answer.message, answer.extra, { cause: error });
}
