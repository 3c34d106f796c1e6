import type { AccountError, AccountErrorCode } from '@ttc/accounts';
import { z } from 'zod';

/**
 * Every error the gateway answers with, in one catalogue: a stable code upstream apps and tests can branch on,
 * the HTTP status, and wording for both the JSON API (`message`) and the hosted pages (`title` + `message`).
 * Messages are written for the person reading them and never contain secrets or echo request values.
 */
export const GatewayErrors = {
  GW_UNAUTHORIZED: {
    status: 401,
    title: 'Not authorised',
    message: 'Missing or invalid API key: send Authorization: Bearer <gateway API key>.',
  },
  GW_VALIDATION: { status: 400, title: 'Invalid request', message: 'The request is invalid.' },
  GW_INVALID_BODY: { status: 400, title: 'Invalid request', message: 'The request body is not valid JSON.' },
  GW_BODY_TOO_LARGE: { status: 413, title: 'Request too large', message: 'The request body is too large.' },
  GW_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported content type',
    message: 'Send the request body as application/json.',
  },
  GW_INVALID_RETURN_TO: {
    status: 400,
    title: 'Invalid return address',
    message: 'returnTo must be an absolute http(s) URL under one of the allowed return origins.',
  },
  GW_CONNECT_SESSION_NOT_FOUND: {
    status: 404,
    title: 'Link not found',
    message: 'This connect link is not valid. Go back to the app and start again.',
  },
  GW_CONNECT_SESSION_EXPIRED: {
    status: 410,
    title: 'Link expired',
    message:
      'This connect session has ended, so nothing more was added to your profile. Go back to the app and start again to get a fresh link; accounts you had already connected are still there.',
  },
  GW_CONNECT_SESSION_USED: {
    status: 410,
    title: 'Link already used',
    message:
      'This link was already used. Connect links work once, in the browser that opened them first. Go back to the app and start again.',
  },
  GW_CONNECT_SESSION_MISSING: {
    status: 401,
    title: 'Session not found',
    message:
      'We could not find your connect session in this browser. Go back to the app and open the connect link again.',
  },
  GW_CSRF_INVALID: {
    status: 403,
    title: 'Request refused',
    message: 'This form has expired or did not come from this page. Go back and try again.',
  },
  GW_ACCOUNT_NOT_FOUND: {
    status: 404,
    title: 'Account not found',
    message: 'That account is not connected to your profile.',
  },
  GW_ACCOUNT_REAUTH_REQUIRED: {
    status: 409,
    title: 'Account needs reconnecting',
    message: 'TikTok no longer accepts this account’s authorization: the user has to connect it again.',
  },
  GW_ACCOUNT_DISCONNECTED: {
    status: 410,
    title: 'Account disconnected',
    message: 'This account was disconnected: it has no tokens any more. The user can connect it again.',
  },
  GW_TIKTOK_UNAVAILABLE: {
    status: 503,
    title: 'TikTok unavailable',
    message: 'The access token has expired and TikTok could not refresh it right now. Retry in a moment.',
    retryAfterSeconds: 30,
  },
  GW_CALLBACK_INVALID: {
    status: 400,
    title: 'Invalid sign-in response',
    message: 'The response from TikTok was incomplete or malformed. Start again from the connect page.',
  },
  GW_STATE_INVALID: {
    status: 400,
    title: 'Sign-in could not be verified',
    message: 'We could not verify this sign-in. Start again from the connect page.',
  },
  GW_STATE_BROWSER_MISMATCH: {
    status: 400,
    title: 'Started in another browser',
    message:
      'This sign-in was started in another browser or tab. Finish it where you started, or start again from the connect page.',
  },
  GW_STATE_EXPIRED: {
    status: 400,
    title: 'Sign-in expired',
    message: 'This sign-in took too long and has expired. Start again from the connect page.',
  },
  GW_STATE_REPLAYED: {
    status: 400,
    title: 'Sign-in already completed',
    message: 'This sign-in response was already used. Start again from the connect page to connect another account.',
  },
  GW_RATE_LIMITED: { status: 429, title: 'Too many requests', message: 'Too many requests. Wait a moment and retry.' },
  GW_NOT_FOUND: { status: 404, title: 'Page not found', message: 'There is nothing here.' },
  GW_METHOD_NOT_ALLOWED: { status: 405, title: 'Not allowed', message: 'This method is not allowed here.' },
  GW_BAD_REQUEST: { status: 400, title: 'Bad request', message: 'The request could not be understood.' },
  GW_UNAVAILABLE: {
    status: 503,
    title: 'Temporarily unavailable',
    message: 'The service is temporarily unavailable. Nothing was changed; try again in a moment.',
    retryAfterSeconds: 5,
  },
  GW_INTERNAL: {
    status: 500,
    title: 'Something went wrong',
    message: 'Something went wrong on our side. Try again in a moment.',
  },
} as const satisfies Record<string, { status: number; title: string; message: string; retryAfterSeconds?: number }>;

export type GatewayErrorCode = keyof typeof GatewayErrors;

/** Ways out offered on an HTML error page. */
export interface ErrorPageLinks {
  /** "Back to your accounts" (the error happened inside a working connect session). */
  backToConnect?: boolean;
  /** "Back to the app". */
  returnTo?: string | undefined;
  /** "Try again": the same page again (503s of a GET page). */
  retry?: string | undefined;
}

/** An error with a catalogue code; the error handler turns it into `{ error: { code, message } }` or an HTML page. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: GatewayErrorCode;
  readonly statusCode: number;
  readonly title: string;
  /** Links offered on the HTML error page. */
  readonly links: ErrorPageLinks;

  /** @param message replaces the catalogue message (it is shown to clients, so never put secrets in it). */
  constructor(code: GatewayErrorCode, message?: string, options: { cause?: unknown; links?: ErrorPageLinks } = {}) {
    const entry = GatewayErrors[code];
    super(message ?? entry.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.statusCode = entry.status;
    this.title = entry.title;
    this.links = options.links ?? {};
  }
}

export function isGatewayError(error: unknown, code?: GatewayErrorCode): error is GatewayError {
  return error instanceof GatewayError && (code === undefined || error.code === code);
}

/**
 * The JSON error body every API error uses, as routes declare it in `schema.response` (through
 * {@link errorResponses}): one schema, so one `Error` component in `/openapi.json`.
 */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(GatewayErrors) as [GatewayErrorCode, ...GatewayErrorCode[]]),
      message: z.string(),
    }),
  })
  .meta({ id: 'Error', description: 'An error: a stable `GW_…` code to branch on and a message for people.' });

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** `schema.response` entries for the error statuses a JSON route answers with: `{ 401: errorBodySchema, … }`. */
export function errorResponses<const S extends number>(...statuses: S[]): Record<S, typeof errorBodySchema> {
  return Object.fromEntries(statuses.map((status) => [status, errorBodySchema])) as Record<S, typeof errorBodySchema>;
}

/**
 * The gateway's answer to each error of the account services, so routes call them and let their errors propagate.
 * A `Record` on purpose: an account error code added later does not compile until it is placed here.
 */
const ACCOUNT_ERRORS: Record<AccountErrorCode, GatewayErrorCode> = {
  ACCOUNT_NOT_FOUND: 'GW_ACCOUNT_NOT_FOUND',
  // Ids are opaque to clients: one that cannot exist is answered like one that does not.
  ACCOUNT_INVALID_ID: 'GW_ACCOUNT_NOT_FOUND',
  ACCOUNT_REAUTH_REQUIRED: 'GW_ACCOUNT_REAUTH_REQUIRED',
  ACCOUNT_DISCONNECTED: 'GW_ACCOUNT_DISCONNECTED',
  ACCOUNT_REFRESH_UNAVAILABLE: 'GW_TIKTOK_UNAVAILABLE',
  // Faults of wiring or data, never of the request.
  ACCOUNT_INVALID_PAYLOAD: 'GW_INTERNAL',
  ACCOUNT_SCHEMA_MISSING: 'GW_INTERNAL',
  ACCOUNT_TIKTOK_CLIENT_MISSING: 'GW_INTERNAL',
};

/**
 * The catalogue error for an account-service error. On a page it can only come from inside a working connect session
 * (the disconnect form), so the way out offered is back to the account list.
 */
export function fromAccountError(error: AccountError, page: boolean): GatewayError {
  const code = ACCOUNT_ERRORS[error.code];
  if (page) return new GatewayError(code, undefined, { cause: error, links: { backToConnect: true } });
  // The catalogue's wording speaks to the person on the page; an API client is told about the id it sent.
  const message = code === 'GW_ACCOUNT_NOT_FOUND' ? 'No connected account has this id.' : undefined;
  return new GatewayError(code, message, { cause: error });
}
