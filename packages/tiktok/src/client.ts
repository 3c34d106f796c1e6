import { splitScopes } from './callback.js';
import { classifyTikTokError, redact, TikTokError, TikTokErrorCode } from './errors.js';
import { isTikTokPkceChallenge } from './pkce.js';
import {
  apiErrorBodySchema,
  clientOptionsSchema,
  DEFAULT_USER_INFO_FIELDS,
  oauthErrorBodySchema,
  tokenResponseSchema,
  type UserInfoField,
  userInfoResponseSchema,
} from './schemas.js';

/** TikTok's authorize page (v2; the old `/auth/authorize/` is deprecated). */
export const DEFAULT_AUTH_URL = 'https://www.tiktok.com/v2/auth/authorize/';
/** TikTok's Open API host (token, revoke, user info). */
export const DEFAULT_API_URL = 'https://open.tiktokapis.com';
/** Default time budget of one call, from sending the request to the last byte of the answer. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Parameters added to the authorize URL against TikTok's session reuse. Only `disable_auto_auth=1` is a documented
 * TikTok parameter (it forces the authorization page); `prompt=select_account` and `force_authentication=true` are
 * not documented by TikTok, which ignores unknown parameters, and are sent because the product specification asks.
 */
export interface AuthorizeExtras {
  /** `true` (default) → `disable_auto_auth=1`; `false` → `disable_auto_auth=0` (TikTok may skip its page). */
  disableAutoAuth?: boolean;
  /** `true` (default) → `prompt=select_account`; `false` → parameter omitted. */
  promptSelectAccount?: boolean;
  /** `true` (default) → `force_authentication=true`; `false` → parameter omitted. */
  forceAuthentication?: boolean;
}

/** Options of {@link createTikTokClient}; checked once, at creation. */
export interface TikTokClientOptions {
  clientKey: string;
  clientSecret: string;
  /** Authorize page; default {@link DEFAULT_AUTH_URL}. Point it at the sandbox in tests and development. */
  authUrl?: string;
  /** API base (a path prefix is kept); default {@link DEFAULT_API_URL}. */
  apiUrl?: string;
  /** Injectable `fetch` (defaults to the global one, looked up at call time). */
  fetch?: typeof fetch;
  /** Clock (ms since the epoch) that token expiries are counted from; default `Date.now`. Tests move it. */
  now?: () => number;
  /** Time budget of every call in milliseconds, default {@link DEFAULT_TIMEOUT_MS}; overridable per call. */
  timeoutMs?: number;
  /** Anti-session-reuse parameters of the authorize URL; every one defaults to on. */
  authorizeExtras?: AuthorizeExtras;
}

/** Per-call options. */
export interface CallOptions {
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Aborts the call (→ `TIKTOK_ABORTED`). */
  signal?: AbortSignal;
}

/** Parameters of {@link TikTokClient.buildAuthorizeUrl}. */
export interface AuthorizeUrlParams {
  /** Must exactly match a registered redirect URI, and is sent unchanged (the token exchange repeats it). */
  redirectUri: string;
  /** Requested scopes, e.g. `['user.info.basic', 'video.list']`; sent comma-joined. */
  scopes: readonly string[];
  /** Opaque CSRF state; TikTok returns it unchanged. */
  state: string;
  /** TikTok's hex challenge from {@link createPkcePair} / {@link pkceChallenge}. */
  codeChallenge: string;
  /** Overrides the client's {@link AuthorizeExtras} for this URL. */
  extras?: AuthorizeExtras;
}

/** Parameters of {@link TikTokClient.exchangeCode}. */
export interface ExchangeCodeParams {
  code: string;
  /** Exactly the `redirectUri` given to the authorize URL. */
  redirectUri: string;
  /** The PKCE verifier whose challenge went on the authorize URL. */
  codeVerifier: string;
}

/** Tokens from the token endpoint. Expiry times are computed from this answer's lifetimes, never assumed. */
export interface TokenSet {
  accessToken: string;
  /** Rotates: always store the one from the latest answer; the previous one may already be dead. */
  refreshToken: string;
  openId: string;
  /** The scopes actually granted (the user may untick some). */
  scopes: string[];
  /** Access token lifetime in seconds, as TikTok sent it. */
  expiresIn: number;
  /** Refresh token lifetime in seconds, as TikTok sent it. */
  refreshExpiresIn: number;
  tokenType: string;
  /** Counted from when the request was sent, so it is never later than TikTok's own expiry. */
  accessTokenExpiresAt: Date;
  refreshTokenExpiresAt: Date;
}

/** A TikTok user as `GET /v2/user/info/` returns it; only requested fields are set (`openId` always is). */
export interface TikTokUser {
  openId: string;
  unionId?: string;
  avatarUrl?: string;
  avatarUrl100?: string;
  avatarLargeUrl?: string;
  displayName?: string;
  bioDescription?: string;
  profileDeepLink?: string;
  isVerified?: boolean;
  /** Needs `user.info.profile`. */
  username?: string;
  followerCount?: number;
  followingCount?: number;
  likesCount?: number;
  videoCount?: number;
}

/** Absolute endpoint URLs a client talks to. */
export interface TikTokEndpoints {
  authorize: string;
  token: string;
  revoke: string;
  userInfo: string;
}

/** A TikTok Login Kit client; create it with {@link createTikTokClient}. */
export interface TikTokClient {
  readonly endpoints: Readonly<TikTokEndpoints>;
  /** The URL to send the user's browser to. */
  buildAuthorizeUrl(params: AuthorizeUrlParams): URL;
  /** Exchanges an authorization code for tokens. */
  exchangeCode(params: ExchangeCodeParams, options?: CallOptions): Promise<TokenSet>;
  /** Exchanges a refresh token for new tokens; store the returned (rotated) refresh token before anything else. */
  refresh(refreshToken: string, options?: CallOptions): Promise<TokenSet>;
  /** Revokes the access token, cutting the app off from this TikTok user. */
  revoke(accessToken: string, options?: CallOptions): Promise<void>;
  /** Reads the user's profile; default fields: open_id, union_id, avatar_url, display_name. */
  getUserInfo(accessToken: string, fields?: readonly UserInfoField[], options?: CallOptions): Promise<TikTokUser>;
}

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const FIELD = /^[a-z0-9_]+$/;
const SCOPE = /^[^\s,]+$/;

/**
 * Creates a client for TikTok Login Kit (OAuth v2) and user info. Dependency-free apart from zod; every call has
 * a timeout, every failure is a {@link TikTokError} with a stable code and a permanent/transient classification.
 *
 * @throws {TikTokError} `TIKTOK_INVALID_OPTIONS` when an option is missing or malformed (the message names the
 *   option, never its value).
 */
export function createTikTokClient(options: TikTokClientOptions): TikTokClient {
  const parsed = clientOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');
    throw new TikTokError(TikTokErrorCode.INVALID_OPTIONS, `Invalid TikTok client options: ${detail}`);
  }
  const { clientKey, clientSecret } = parsed.data;
  const authUrl = parsed.data.authUrl ?? DEFAULT_AUTH_URL;
  const apiBase = (parsed.data.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
  const defaultTimeoutMs = parsed.data.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const defaultExtras = { ...options.authorizeExtras };
  // Looked up per call (not captured) so the default follows whatever `fetch` the runtime has at that moment,
  // and called unbound-safe (browsers throw "Illegal invocation" on a detached fetch).
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  const endpoints: TikTokEndpoints = Object.freeze({
    authorize: new URL(authUrl).toString(),
    token: `${apiBase}/v2/oauth/token/`,
    revoke: `${apiBase}/v2/oauth/revoke/`,
    userInfo: `${apiBase}/v2/user/info/`,
  });

  function timeoutOf(call: CallOptions | undefined): number {
    const ms = call?.timeoutMs ?? defaultTimeoutMs;
    if (!Number.isInteger(ms) || ms <= 0) throw argument('timeoutMs must be a positive integer');
    return ms;
  }

  /** One deadline per call: our timeout, joined with the caller's signal when there is one. */
  function deadline(call: CallOptions | undefined) {
    const timeoutMs = timeoutOf(call);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = call?.signal ? AbortSignal.any([timeout, call.signal]) : timeout;
    return { timeoutMs, timeout, signal, callerSignal: call?.signal };
  }

  /** Runs request + processing under one deadline, so a slow body counts against the same budget. */
  async function run<T>(
    what: string,
    call: CallOptions | undefined,
    secrets: readonly string[],
    send: (signal: AbortSignal, timeoutMs: number) => Promise<Response>,
    process: (response: Response, opts: ProcessOptions) => Promise<T>,
  ): Promise<T> {
    const d = deadline(call);
    const requestedAt = (options.now ?? Date.now)();
    try {
      const response = await send(d.signal, d.timeoutMs);
      return await abortable(process(response, { requestedAt, secrets, timeoutMs: d.timeoutMs }), d.signal);
    } catch (error) {
      throw settleAbort(error, what, d.timeoutMs, d.timeout, d.callerSignal, secrets);
    }
  }

  async function post(
    url: string,
    form: Record<string, string>,
    what: string,
    signal: AbortSignal,
    timeoutMs: number,
    secrets: readonly string[],
  ): Promise<Response> {
    try {
      return await abortable(
        fetchImpl(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Cache-Control': 'no-cache',
            Accept: 'application/json',
          },
          body: new URLSearchParams(form).toString(),
          // Never follow a redirect: a 307/308 would re-send the client secret to wherever it points.
          redirect: 'manual',
          signal,
        }),
        signal,
      );
    } catch (error) {
      throw transportError(error, what, timeoutMs, secrets);
    }
  }

  function exchangeForm(params: ExchangeCodeParams): Record<string, string> {
    if (params === null || typeof params !== 'object')
      throw argument('exchangeCode needs { code, redirectUri, codeVerifier }');
    nonEmpty(params.code, 'code');
    nonEmpty(params.redirectUri, 'redirectUri');
    if (typeof params.codeVerifier !== 'string' || !VERIFIER.test(params.codeVerifier)) {
      throw argument('codeVerifier must be 43-128 characters from [A-Za-z0-9-._~]');
    }
    return {
      client_key: clientKey,
      client_secret: clientSecret,
      code: params.code,
      grant_type: 'authorization_code',
      redirect_uri: params.redirectUri,
      code_verifier: params.codeVerifier,
    };
  }

  function refreshForm(refreshToken: string): Record<string, string> {
    nonEmpty(refreshToken, 'refreshToken');
    return {
      client_key: clientKey,
      client_secret: clientSecret,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    };
  }

  function revokeForm(accessToken: string): Record<string, string> {
    nonEmpty(accessToken, 'accessToken');
    return { client_key: clientKey, client_secret: clientSecret, token: accessToken };
  }

  function userInfoUrl(fields: readonly UserInfoField[] | undefined): string {
    if (fields !== undefined && !Array.isArray(fields)) throw argument('fields must be an array of field names');
    const wanted = fields === undefined || fields.length === 0 ? DEFAULT_USER_INFO_FIELDS : fields;
    for (const field of wanted) {
      if (typeof field !== 'string' || !FIELD.test(field)) throw argument('fields must be lowercase field names');
    }
    // open_id is always read: it is the account's identity, and user.info.basic (which every login has) covers it.
    const list = [...new Set<string>(['open_id', ...wanted])];
    return `${endpoints.userInfo}?fields=${list.join(',')}`;
  }

  async function getRequest(
    url: string,
    accessToken: string,
    what: string,
    signal: AbortSignal,
    timeoutMs: number,
    secrets: readonly string[],
  ): Promise<Response> {
    try {
      return await abortable(
        fetchImpl(url, {
          method: 'GET',
          headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
          redirect: 'manual',
          signal,
        }),
        signal,
      );
    } catch (error) {
      throw transportError(error, what, timeoutMs, secrets);
    }
  }

  const TOKEN = 'token request';
  const REFRESH = 'token refresh';
  const REVOKE = 'token revocation';
  const USER_INFO = 'user info request';

  // Methods are async so that even a bad argument surfaces as a rejected promise, never a synchronous throw.
  return {
    endpoints,

    buildAuthorizeUrl(params) {
      if (params === null || typeof params !== 'object') throw argument('buildAuthorizeUrl needs parameters');
      nonEmpty(params.redirectUri, 'redirectUri');
      let redirect: URL;
      try {
        redirect = new URL(params.redirectUri);
      } catch (cause) {
        throw new TikTokError(TikTokErrorCode.INVALID_ARGUMENT, 'redirectUri must be an absolute URL', { cause });
      }
      if (redirect.protocol !== 'https:' && redirect.protocol !== 'http:') {
        throw argument('redirectUri must be an http(s) URL');
      }
      if (redirect.hash !== '' || params.redirectUri.includes('#'))
        throw argument('redirectUri must not have a fragment');
      if (!Array.isArray(params.scopes) || params.scopes.length === 0)
        throw argument('scopes must be a non-empty array');
      for (const scope of params.scopes) {
        if (typeof scope !== 'string' || !SCOPE.test(scope)) {
          throw argument('each scope must be a non-empty string without commas or spaces');
        }
      }
      nonEmpty(params.state, 'state');
      if (typeof params.codeChallenge !== 'string' || !isTikTokPkceChallenge(params.codeChallenge)) {
        throw argument(
          "codeChallenge must be TikTok's form: 64 lowercase hex characters (use pkceChallenge(), not base64url)",
        );
      }
      const extras = { ...defaultExtras, ...params.extras };
      const url = new URL(endpoints.authorize);
      const q = url.searchParams;
      q.set('client_key', clientKey);
      // Sent exactly as given: the token exchange must repeat the identical string.
      q.set('redirect_uri', params.redirectUri);
      q.set('response_type', 'code');
      q.set('scope', [...new Set(params.scopes)].join(','));
      q.set('state', params.state);
      q.set('disable_auto_auth', extras.disableAutoAuth === false ? '0' : '1');
      if (extras.promptSelectAccount !== false) q.set('prompt', 'select_account');
      if (extras.forceAuthentication !== false) q.set('force_authentication', 'true');
      q.set('code_challenge', params.codeChallenge);
      q.set('code_challenge_method', 'S256');
      return url;
    },

    async exchangeCode(params, call) {
      const form = exchangeForm(params);
      const secrets = [clientSecret, params.code, params.codeVerifier];
      return run(
        TOKEN,
        call,
        secrets,
        (signal, ms) => post(endpoints.token, form, TOKEN, signal, ms, secrets),
        processTokenResponse,
      );
    },

    async refresh(refreshToken, call) {
      const form = refreshForm(refreshToken);
      const secrets = [clientSecret, refreshToken];
      return run(
        REFRESH,
        call,
        secrets,
        (signal, ms) => post(endpoints.token, form, REFRESH, signal, ms, secrets),
        processTokenResponse,
      );
    },

    async revoke(accessToken, call) {
      const form = revokeForm(accessToken);
      const secrets = [clientSecret, accessToken];
      return run(
        REVOKE,
        call,
        secrets,
        (signal, ms) => post(endpoints.revoke, form, REVOKE, signal, ms, secrets),
        processRevokeResponse,
      );
    },

    async getUserInfo(accessToken, fields, call) {
      nonEmpty(accessToken, 'accessToken');
      const url = userInfoUrl(fields);
      const secrets = [clientSecret, accessToken];
      return run(
        USER_INFO,
        call,
        secrets,
        (signal, ms) => getRequest(url, accessToken, USER_INFO, signal, ms, secrets),
        processUserInfoResponse,
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Response processing, run by the client methods under the call's deadline.
// ---------------------------------------------------------------------------------------------------------------

/** What a client call tells the processing of its answer. */
interface ProcessOptions {
  /** When the request was sent (ms since epoch); expiry times count from it. */
  requestedAt: number;
  /** Values to scrub from any error text: the client secret and the code, verifier or token the call sent. */
  secrets: readonly string[];
  /** The call's time budget, only used to word a timeout while reading the body. */
  timeoutMs: number;
}

/**
 * Turns a token endpoint answer (authorization code or refresh grant) into a {@link TokenSet}.
 * An OAuth error body is an error whatever the HTTP status, 200 included.
 *
 * @throws {TikTokError} the mapped TikTok error, or `TIKTOK_INVALID_RESPONSE` for a malformed success body.
 */
async function processTokenResponse(response: Response, options: ProcessOptions): Promise<TokenSet> {
  const { requestedAt } = options;
  const body = await readJson(response, 'token request', options);
  const parsed = tokenResponseSchema.safeParse(body);
  if (!parsed.success) {
    throw new TikTokError(
      TikTokErrorCode.INVALID_RESPONSE,
      `TikTok token request answered HTTP ${response.status} with a body that is not a token response`,
      { status: response.status, cause: parsed.error },
    );
  }
  const t = parsed.data;
  return {
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    openId: t.open_id,
    scopes: splitScopes(t.scope),
    expiresIn: t.expires_in,
    refreshExpiresIn: t.refresh_expires_in,
    tokenType: t.token_type ?? 'Bearer',
    accessTokenExpiresAt: new Date(requestedAt + t.expires_in * 1000),
    refreshTokenExpiresAt: new Date(requestedAt + t.refresh_expires_in * 1000),
  };
}

/**
 * Checks a revoke answer: success is HTTP 200 with an empty body (`{}` and other bodies without an error are
 * tolerated).
 *
 * @throws {TikTokError} the mapped TikTok error, or `TIKTOK_INVALID_RESPONSE` for a non-JSON success body.
 */
async function processRevokeResponse(response: Response, options: ProcessOptions): Promise<void> {
  await readJson(response, 'token revocation', options, { allowEmpty: true });
}

/**
 * Turns a user-info answer into a {@link TikTokUser}. The API's `error.code` other than `ok` is an error
 * whatever the HTTP status.
 *
 * @throws {TikTokError} the mapped TikTok error, or `TIKTOK_INVALID_RESPONSE` for a malformed success body.
 */
async function processUserInfoResponse(response: Response, options: ProcessOptions): Promise<TikTokUser> {
  const body = await readJson(response, 'user info request', options);
  const parsed = userInfoResponseSchema.safeParse(body);
  if (!parsed.success) {
    throw new TikTokError(
      TikTokErrorCode.INVALID_RESPONSE,
      `TikTok user info request answered HTTP ${response.status} with a body that is not a user info response`,
      { status: response.status, cause: parsed.error },
    );
  }
  const u = parsed.data.data.user;
  const user: TikTokUser = { openId: u.open_id };
  if (u.union_id !== undefined) user.unionId = u.union_id;
  if (u.avatar_url !== undefined) user.avatarUrl = u.avatar_url;
  if (u.avatar_url_100 !== undefined) user.avatarUrl100 = u.avatar_url_100;
  if (u.avatar_large_url !== undefined) user.avatarLargeUrl = u.avatar_large_url;
  if (u.display_name !== undefined) user.displayName = u.display_name;
  if (u.bio_description !== undefined) user.bioDescription = u.bio_description;
  if (u.profile_deep_link !== undefined) user.profileDeepLink = u.profile_deep_link;
  if (u.is_verified !== undefined) user.isVerified = u.is_verified;
  if (u.username !== undefined) user.username = u.username;
  if (u.follower_count !== undefined) user.followerCount = u.follower_count;
  if (u.following_count !== undefined) user.followingCount = u.following_count;
  if (u.likes_count !== undefined) user.likesCount = u.likes_count;
  if (u.video_count !== undefined) user.videoCount = u.video_count;
  return user;
}

/**
 * Reads and parses the body, and throws the TikTok error it (or the status) carries. Returns the parsed JSON of a
 * success answer without an error; `undefined` for an empty body when `allowEmpty`.
 */
async function readJson(
  response: Response,
  what: string,
  options: ProcessOptions,
  { allowEmpty = false } = {},
): Promise<unknown> {
  const { secrets } = options;
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw transportError(error, what, options.timeoutMs, secrets);
  }
  const status = response.status;
  let body: unknown;
  let isJson = true;
  if (text.trim() === '') {
    body = undefined;
    isJson = allowEmpty;
  } else {
    try {
      body = JSON.parse(text);
    } catch {
      // The SyntaxError is deliberately not kept as `cause`: V8 quotes the body in its message, and a garbled
      // token answer would then carry tokens into logs.
      isJson = false;
    }
  }

  const reported = body === undefined ? undefined : reportedError(body);
  if (reported !== undefined || status < 200 || status > 299) {
    const code = classifyTikTokError(reported?.error, status);
    const description = reported?.description ? redact(reported.description, secrets) : undefined;
    const label = reported ? redact(reported.error, secrets) : isJson ? 'no error in body' : 'non-JSON body';
    throw new TikTokError(
      code,
      `TikTok ${what} failed: ${label} (HTTP ${status})${description ? `: ${description}` : ''}`,
      {
        error: reported?.error,
        errorDescription: description,
        logId: reported?.logId,
        status,
        retryAfterSeconds: retryAfter(response.headers.get('retry-after')),
      },
    );
  }
  if (!isJson) {
    throw new TikTokError(
      TikTokErrorCode.INVALID_RESPONSE,
      `TikTok ${what} answered HTTP ${status} with ${text.trim() === '' ? 'an empty body' : 'a body that is not JSON'}`,
      { status },
    );
  }
  return body;
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date); `undefined` when absent or unreadable. */
function retryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The error a body reports, in either of TikTok's two shapes; `undefined` when it reports none. */
function reportedError(body: unknown): { error: string; description?: string; logId?: string } | undefined {
  const oauth = oauthErrorBodySchema.safeParse(body);
  if (oauth.success) {
    return { error: oauth.data.error, description: oauth.data.error_description, logId: oauth.data.log_id };
  }
  const api = apiErrorBodySchema.safeParse(body);
  if (api.success && api.data.error.code !== 'ok') {
    return { error: api.data.error.code, description: api.data.error.message, logId: api.data.error.log_id };
  }
  return undefined;
}

/** Maps a failure to get an answer (fetch rejected or the body stream broke) to a {@link TikTokError}. */
function transportError(error: unknown, what: string, timeoutMs: number, secrets: readonly string[]): TikTokError {
  if (error instanceof TikTokError) return error;
  const name = error instanceof Error || error instanceof DOMException ? error.name : undefined;
  if (name === 'TimeoutError') {
    return new TikTokError(TikTokErrorCode.TIMEOUT, `TikTok ${what} got no complete answer within ${timeoutMs} ms`, {
      cause: error,
    });
  }
  if (name === 'AbortError') {
    return new TikTokError(TikTokErrorCode.ABORTED, `TikTok ${what} was aborted`, { cause: error });
  }
  return new TikTokError(TikTokErrorCode.NETWORK_ERROR, `TikTok ${what} failed: ${networkDetail(error, secrets)}`, {
    cause: error,
  });
}

/**
 * After any failure, asks the signals what really happened: the caller's abort wins, then our deadline. This
 * corrects errors a custom `fetch` words its own way (or a rejection with an arbitrary abort reason).
 */
function settleAbort(
  error: unknown,
  what: string,
  timeoutMs: number,
  timeout: AbortSignal,
  callerSignal: AbortSignal | undefined,
  secrets: readonly string[],
): TikTokError {
  const mapped = transportError(error, what, timeoutMs, secrets);
  // A TikTok answer that was complete stands, even if a signal fired a moment later.
  const isTransport =
    mapped.code === TikTokErrorCode.NETWORK_ERROR ||
    mapped.code === TikTokErrorCode.TIMEOUT ||
    mapped.code === TikTokErrorCode.ABORTED;
  if (!isTransport) return mapped;
  if (callerSignal?.aborted) {
    return mapped.code === TikTokErrorCode.ABORTED
      ? mapped
      : new TikTokError(TikTokErrorCode.ABORTED, `TikTok ${what} was aborted`, { cause: error });
  }
  if (timeout.aborted && mapped.code !== TikTokErrorCode.TIMEOUT) {
    return new TikTokError(TikTokErrorCode.TIMEOUT, `TikTok ${what} got no complete answer within ${timeoutMs} ms`, {
      cause: error,
    });
  }
  return mapped;
}

function networkDetail(error: unknown, secrets: readonly string[]): string {
  // undici wraps the socket error: `TypeError: fetch failed` with `cause.code` like ECONNREFUSED / UND_ERR_SOCKET.
  const cause = error instanceof Error ? error.cause : undefined;
  const code =
    cause !== null && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return redact(code === undefined ? message : `${message} (${code})`, secrets);
}

/** Settles with the promise, or rejects with the signal's reason as soon as it aborts (even if fetch ignores it). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function nonEmpty(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw argument(`${name} must be a non-empty string`);
}

function argument(message: string): TikTokError {
  return new TikTokError(TikTokErrorCode.INVALID_ARGUMENT, message);
}
