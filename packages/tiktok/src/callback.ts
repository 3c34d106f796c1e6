import { TikTokError, TikTokErrorCode } from './errors.js';
import { callbackQuerySchema } from './schemas.js';

/** The user authorized: exchange `code`, after checking `state`. */
export interface CallbackCode {
  kind: 'code';
  code: string;
  state: string;
  /** The scopes the user actually granted (they may untick some); empty when TikTok sent none. */
  scopes: string[];
}

/** The user (or TikTok) refused: nothing to exchange. `state` is still worth checking to find the session. */
export interface CallbackError {
  kind: 'error';
  /** e.g. `access_denied`. */
  error: string;
  errorDescription: string | undefined;
  state: string | undefined;
}

export type CallbackResult = CallbackCode | CallbackError;

/** What {@link parseCallbackQuery} accepts: a query string (with or without `?`), a URL, or a parsed query object. */
export type CallbackQueryInput = string | URL | URLSearchParams | Readonly<Record<string, unknown>>;

const KNOWN = ['code', 'state', 'scopes', 'error', 'error_description'] as const;

/** Splits TikTok's comma-separated scope list, tolerating spaces and empty items. */
export function splitScopes(value: string | undefined): string[] {
  if (value === undefined) return [];
  return [...new Set(value.split(/[\s,]+/).filter((s) => s !== ''))];
}

/**
 * Reads the query TikTok appends to the redirect URI: `code`, `state`, `scopes`, or `error`,
 * `error_description`, `state`. When `error` is present at all, the result is an error, even next to a `code`,
 * so a half-failed authorization is never exchanged. Checking `state` is the caller's job.
 *
 * @throws {TikTokError} `TIKTOK_INVALID_CALLBACK` for a missing, empty, repeated or oversized parameter. The
 *   message names the parameters, never their values (a code is a credential).
 */
export function parseCallbackQuery(query: CallbackQueryInput): CallbackResult {
  const flat = flatten(query);
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(flat)) {
    if (value !== undefined) input[key] = value;
  }
  // Decide the branch by presence, not validity, so an empty `error=` is reported as bad rather than ignored.
  if ('error' in input) {
    const parsed = callbackQuerySchema.options[0].safeParse(input);
    if (!parsed.success) throw invalid(parsed.error.issues);
    return {
      kind: 'error',
      error: parsed.data.error,
      errorDescription: parsed.data.error_description === '' ? undefined : parsed.data.error_description,
      state: parsed.data.state,
    };
  }
  const parsed = callbackQuerySchema.options[1].safeParse(input);
  if (!parsed.success) throw invalid(parsed.error.issues);
  return { kind: 'code', code: parsed.data.code, state: parsed.data.state, scopes: splitScopes(parsed.data.scopes) };
}

function flatten(query: CallbackQueryInput): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (typeof query === 'string' || query instanceof URL || query instanceof URLSearchParams) {
    const params =
      query instanceof URLSearchParams
        ? query
        : query instanceof URL
          ? query.searchParams
          : new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
    for (const key of KNOWN) {
      const all = params.getAll(key);
      if (all.length > 1) throw repeated(key);
      out[key] = all[0];
    }
    return out;
  }
  if (query === null || typeof query !== 'object') {
    throw new TikTokError(TikTokErrorCode.INVALID_CALLBACK, 'OAuth callback query must be a string or an object');
  }
  for (const key of KNOWN) {
    const value = query[key];
    if (value === undefined) continue;
    // Frameworks turn `?code=a&code=b` into an array: ambiguous, so refused rather than guessed.
    if (Array.isArray(value)) {
      if (value.length > 1) throw repeated(key);
      if (value.length === 0) continue;
      if (typeof value[0] !== 'string') throw wrongType(key);
      out[key] = value[0];
      continue;
    }
    if (typeof value !== 'string') throw wrongType(key);
    out[key] = value;
  }
  return out;
}

function repeated(key: string): TikTokError {
  return new TikTokError(TikTokErrorCode.INVALID_CALLBACK, `OAuth callback parameter "${key}" is repeated`);
}

function wrongType(key: string): TikTokError {
  return new TikTokError(TikTokErrorCode.INVALID_CALLBACK, `OAuth callback parameter "${key}" must be a string`);
}

function invalid(issues: readonly { path: readonly PropertyKey[]; message: string }[]): TikTokError {
  const detail = issues.map((i) => `${i.path.map(String).join('.') || '(query)'}: ${i.message}`).join('; ');
  return new TikTokError(TikTokErrorCode.INVALID_CALLBACK, `Invalid OAuth callback query: ${detail}`);
}
