/** One account a browser can log in as on the sandbox's TikTok login page. */
export interface SandboxUser {
  openId: string;
  unionId: string;
  displayName: string;
  username: string;
  /**
   * In {@link SANDBOX_USERS} a path on the sandbox (`/avatars/<openId>.svg`); in `control.users()` and in user info
   * responses the absolute URL, so nothing outside the sandbox is ever loaded.
   */
  avatarUrl: string;
}

/** Options of {@link buildSandboxApp} and {@link startSandbox}. */
export interface SandboxOptions {
  /** Default 0 (a random free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 'sbx_client_key'. */
  clientKey?: string;
  /** The client app's name on the login and consent pages (TikTok shows the registered app name, not the key). */
  appName?: string;
  /** Default 'sbx_client_secret'. */
  clientSecret?: string;
  /**
   * Registered redirect URIs. When omitted or empty, authorize accepts any absolute http(s) URI without a fragment;
   * the token exchange always demands the exact URI used at authorize.
   */
  redirectUris?: string[];
  /** Default 7200 (2 hours, as TikTok documents now; older pages said 24 hours). */
  accessTokenTtlSeconds?: number;
  /** Default 15552000 (180 days; older pages said 365). */
  refreshTokenTtlSeconds?: number;
  /** Default 600. */
  codeTtlSeconds?: number;
  /** Base URL used for links and avatars (default `http://host:port`, or the request's host under `inject()`). */
  publicUrl?: string;
  /** A request not fully received (headers and body) by then is answered 408; also the idle-socket limit. Default 30000. */
  requestTimeoutMs?: number;
  /** Fastify request logging (authorization headers are redacted). Default false. */
  logger?: boolean;
}

/** 'token' = authorization_code grant, 'refresh' = refresh_token grant. */
export type SandboxEndpoint = 'authorize' | 'token' | 'refresh' | 'revoke' | 'userinfo';

export type SandboxFailureKind =
  /** HTTP 500 with TikTok's error body (`server_error` / `internal_error`). */
  | 'http_500'
  /** HTTP 503 with TikTok's error body (`server_error` / `internal_error`). */
  | 'http_503'
  /** HTTP 429 (`rate_limit_exceeded`) with `Retry-After: 1`. */
  | 'rate_limit'
  /** OAuth error body `temporarily_unavailable` with HTTP 503. */
  | 'temporarily_unavailable'
  /** OAuth error body (`server_error`; user info: `internal_error`) with HTTP 200. */
  | 'error_200'
  /** OAuth `invalid_grant` with HTTP 400 (user info: `access_token_invalid` 401). */
  | 'invalid_grant'
  /** Delays the response by `latencyMs` (default 1000), then serves it normally. */
  | 'latency'
  /** Destroys the socket without answering (the client sees a network error). */
  | 'drop';

export interface SandboxFailure {
  endpoint: SandboxEndpoint;
  kind: SandboxFailureKind;
  /** Default 1; `Infinity` = until cleared. */
  times?: number;
  latencyMs?: number;
  /** Only calls for this account. */
  openId?: string;
  /**
   * Addition to the contract. When true the call is processed first (code consumed, refresh token rotated, tokens
   * revoked) and only then is the response replaced by the failure: "TikTok did it but the answer was lost".
   * Default false: the failure happens before anything changes, so a retry can succeed.
   */
  afterProcessing?: boolean;
}

/** How an authorize-endpoint call ended (addition to the contract, set on 'authorize' calls only). */
export type SandboxAuthorizeOutcome =
  | 'silent_redirect'
  | 'login_page'
  | 'consent_page'
  | 'error_page'
  | 'authorized'
  | 'denied'
  | 'injected_failure';

export interface SandboxCall {
  /** ISO time the response was sent. */
  at: string;
  endpoint: SandboxEndpoint;
  /** HTTP status; 0 when the connection was dropped on purpose. */
  status: number;
  openId?: string;
  /** TikTok error code (`invalid_grant`, `access_token_invalid`, ...). */
  error?: string;
  grantType?: string;
  refreshTokenReused?: boolean;
  /** Addition: true when an already used authorization code was presented again. */
  codeReused?: boolean;
  /** Addition: the failure kind when an injected failure answered this call. */
  injectedFailure?: SandboxFailureKind;
  /** Addition: see {@link SandboxAuthorizeOutcome}. */
  authorizeOutcome?: SandboxAuthorizeOutcome;
  /** Addition: the `log_id` the response carried. */
  logId: string;
}

export interface SandboxLifetimes {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  codeTtlSeconds: number;
}

export interface SandboxControl {
  /** Applies to tokens and codes issued from now on (also to refreshed ones). */
  setLifetimes(l: {
    accessTokenTtlSeconds?: number;
    refreshTokenTtlSeconds?: number;
    codeTtlSeconds?: number;
  }): Promise<void>;
  injectFailure(f: SandboxFailure): Promise<void>;
  clearFailures(): Promise<void>;
  calls(filter?: { endpoint?: SandboxEndpoint; openId?: string }): Promise<SandboxCall[]>;
  resetCalls(): Promise<void>;
  users(): Promise<SandboxUser[]>;
  /** Mint an authorization code for a user as if they had clicked Authorize (for tests that skip the browser). */
  mintCode(p: {
    openId: string;
    redirectUri: string;
    /** Default ['user.info.basic']. */
    scopes?: string[];
    /** Lowercase hex SHA-256 of the verifier (method S256). */
    codeChallenge?: string;
  }): Promise<{ code: string; scopes: string }>;
  /** Forcibly revoke all tokens of a user (their next refresh gets invalid_grant). */
  revokeUser(openId: string): Promise<void>;
  /** Addition: move the sandbox clock forward, so codes and tokens expire without waiting. */
  advanceTime(seconds: number): Promise<void>;
  /**
   * Addition: a browser session logged in as this user, as the cookie to set (on the sandbox's host), to reproduce
   * "already logged in to TikTok" without clicking through the login page.
   */
  createSession(openId: string): Promise<{ name: string; value: string }>;
  /** Addition: forget everything (tokens, codes, sessions, failures, calls, clock, lifetimes back to the options). */
  reset(): Promise<void>;
}

export interface SandboxHandle {
  /** e.g. http://127.0.0.1:40123 (= TIKTOK_API_URL). */
  url: string;
  /** `${url}/v2/auth/authorize/` (= TIKTOK_AUTH_URL). */
  authUrl: string;
  clientKey: string;
  clientSecret: string;
  /** What a TikTok client needs to talk to this sandbox: `createTikTokClient({ ...sandbox.clientOptions })`. */
  clientOptions: { clientKey: string; clientSecret: string; authUrl: string; apiUrl: string };
  /** Typed wrapper over the HTTP control API. */
  control: SandboxControl;
  close(): Promise<void>;
}
