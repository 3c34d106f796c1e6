import { createHash, randomBytes, randomInt } from 'node:crypto';
import type {
  SandboxCall,
  SandboxEndpoint,
  SandboxFailure,
  SandboxLifetimes,
  SandboxOptions,
  SandboxUser,
} from './types.js';
import { findProfile, SANDBOX_USERS } from './users.js';

export const DEFAULT_CLIENT_KEY = 'sbx_client_key';
/** The name the login and consent pages give the client app, as TikTok shows an app's registered name. */
export const DEFAULT_APP_NAME = 'TikTok multi-account connect';
export const DEFAULT_CLIENT_SECRET = 'sbx_client_secret';
export const SESSION_COOKIE = 'sbx_tt_session';

interface CodeRecord {
  openId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge?: string;
  expiresAt: number;
  used: boolean;
}

interface AccessTokenRecord {
  openId: string;
  scopes: string[];
  expiresAt: number;
  revoked: boolean;
}

interface RefreshTokenRecord {
  openId: string;
  scopes: string[];
  expiresAt: number;
  /** active → rotated on refresh; active|rotated → revoked on revoke. */
  status: 'active' | 'rotated' | 'revoked';
}

export interface IssuedTokens {
  access_token: string;
  expires_in: number;
  open_id: string;
  refresh_token: string;
  refresh_expires_in: number;
  scope: string;
  token_type: 'Bearer';
}

export interface PendingFailure extends SandboxFailure {
  /** Remaining uses; Infinity = until cleared. */
  remaining: number;
}

export type TokenOutcome =
  | { ok: true; tokens: IssuedTokens }
  | {
      ok: false;
      error: 'invalid_grant' | 'invalid_request';
      description: string;
      codeReused?: boolean;
      refreshTokenReused?: boolean;
    };

export type AccessTokenLookup =
  | { ok: true; openId: string; scopes: string[] }
  | { ok: false; openId?: string | undefined };

/** TikTok's log ids look like `20240101120000` + hex; only the shape matters to clients. */
export function newLogId(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  return `${stamp}${randomBytes(10).toString('hex').toUpperCase()}`;
}

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** Lowercase hex SHA-256, TikTok's PKCE challenge form. */
export function hexS256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('hex');
}

/** All in-memory state of one sandbox instance: nothing is shared between instances. */
export class SandboxState {
  readonly clientKey: string;
  readonly appName: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  /** Set by startSandbox once the port is known; otherwise derived per request. */
  publicUrl: string | undefined;

  private readonly initialLifetimes: SandboxLifetimes;
  lifetimes: SandboxLifetimes;
  private clockOffsetMs = 0;

  private sessions = new Map<string, string>();
  private codes = new Map<string, CodeRecord>();
  private accessTokens = new Map<string, AccessTokenRecord>();
  private refreshTokens = new Map<string, RefreshTokenRecord>();
  private failures: PendingFailure[] = [];
  private callLog: SandboxCall[] = [];

  constructor(options: SandboxOptions) {
    this.clientKey = options.clientKey ?? DEFAULT_CLIENT_KEY;
    this.appName = options.appName ?? DEFAULT_APP_NAME;
    this.clientSecret = options.clientSecret ?? DEFAULT_CLIENT_SECRET;
    this.redirectUris = Object.freeze([...(options.redirectUris ?? [])]);
    this.publicUrl = options.publicUrl?.replace(/\/+$/, '');
    this.initialLifetimes = {
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 7_200,
      refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 15_552_000,
      codeTtlSeconds: options.codeTtlSeconds ?? 600,
    };
    this.lifetimes = { ...this.initialLifetimes };
  }

  /** The sandbox clock (real time plus whatever `advanceTime` added). */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  advanceTime(seconds: number): void {
    this.clockOffsetMs += seconds * 1000;
  }

  reset(): void {
    this.sessions.clear();
    this.codes.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.failures = [];
    this.callLog = [];
    this.clockOffsetMs = 0;
    this.lifetimes = { ...this.initialLifetimes };
  }

  // --- users -------------------------------------------------------------------------------------------------

  users(baseUrl: string): SandboxUser[] {
    return SANDBOX_USERS.map((u) => ({ ...u, avatarUrl: `${baseUrl}${u.avatarUrl}` }));
  }

  // --- browser sessions --------------------------------------------------------------------------------------

  createSession(openId: string): string {
    const sid = randomToken(24);
    this.sessions.set(sid, openId);
    return sid;
  }

  sessionUser(sid: string | undefined): string | undefined {
    return sid === undefined ? undefined : this.sessions.get(sid);
  }

  endSession(sid: string | undefined): void {
    if (sid !== undefined) this.sessions.delete(sid);
  }

  // --- authorization codes -----------------------------------------------------------------------------------

  /** TikTok's codes carry `*` and `!`, which catches clients that forget to URL-encode them. */
  issueCode(p: { openId: string; redirectUri: string; scopes: string[]; codeChallenge?: string | undefined }): string {
    const code = `${randomToken(48)}*${randomInt(10)}!${randomInt(1000, 10_000)}`;
    const record: CodeRecord = {
      openId: p.openId,
      redirectUri: p.redirectUri,
      scopes: [...p.scopes],
      expiresAt: this.now() + this.lifetimes.codeTtlSeconds * 1000,
      used: false,
    };
    if (p.codeChallenge !== undefined) record.codeChallenge = p.codeChallenge;
    this.codes.set(code, record);
    return code;
  }

  codeOwner(code: string): string | undefined {
    return this.codes.get(code)?.openId;
  }

  exchangeCode(p: { code: string; redirectUri: string | undefined; codeVerifier: string | undefined }): TokenOutcome {
    const record = this.codes.get(p.code);
    if (!record) return { ok: false, error: 'invalid_grant', description: 'Authorization code is invalid.' };
    if (record.used) {
      return { ok: false, error: 'invalid_grant', description: 'Authorization code has been used.', codeReused: true };
    }
    if (this.now() >= record.expiresAt) {
      return { ok: false, error: 'invalid_grant', description: 'Authorization code is expired.' };
    }
    if (p.redirectUri === undefined || p.redirectUri === '') {
      return { ok: false, error: 'invalid_request', description: 'redirect_uri is required.' };
    }
    if (p.redirectUri !== record.redirectUri) {
      return {
        ok: false,
        error: 'invalid_grant',
        description: 'redirect_uri does not match the one used in the authorization request.',
      };
    }
    if (record.codeChallenge !== undefined) {
      if (p.codeVerifier === undefined || p.codeVerifier === '') {
        return { ok: false, error: 'invalid_grant', description: 'code_verifier is required.' };
      }
      if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(p.codeVerifier)) {
        return {
          ok: false,
          error: 'invalid_request',
          description: 'code_verifier must be 43-128 characters of [A-Z a-z 0-9 - . _ ~].',
        };
      }
      if (hexS256(p.codeVerifier) !== record.codeChallenge) {
        return { ok: false, error: 'invalid_grant', description: 'code_verifier does not match code_challenge.' };
      }
    }
    record.used = true;
    return { ok: true, tokens: this.issueTokens(record.openId, record.scopes) };
  }

  // --- tokens --------------------------------------------------------------------------------------------------

  private issueTokens(openId: string, scopes: string[]): IssuedTokens {
    const now = this.now();
    const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = this.lifetimes;
    const accessToken = `act.${randomToken(45)}`;
    const refreshToken = `rft.${randomToken(45)}`;
    this.accessTokens.set(accessToken, {
      openId,
      scopes: [...scopes],
      expiresAt: now + accessTokenTtlSeconds * 1000,
      revoked: false,
    });
    this.refreshTokens.set(refreshToken, {
      openId,
      scopes: [...scopes],
      expiresAt: now + refreshTokenTtlSeconds * 1000,
      status: 'active',
    });
    return {
      access_token: accessToken,
      expires_in: accessTokenTtlSeconds,
      open_id: openId,
      refresh_token: refreshToken,
      refresh_expires_in: refreshTokenTtlSeconds,
      scope: scopes.join(','),
      token_type: 'Bearer',
    };
  }

  refreshTokenOwner(token: string): string | undefined {
    return this.refreshTokens.get(token)?.openId;
  }

  /**
   * Rotates: the presented refresh token stops working and a new one is issued. A rotated token presented again is
   * refused without touching the new one, so the loser of a refresh race cannot kill the winner's token.
   */
  refresh(token: string): TokenOutcome {
    const record = this.refreshTokens.get(token);
    if (!record) return { ok: false, error: 'invalid_grant', description: 'Refresh token is invalid.' };
    if (record.status === 'rotated') {
      return {
        ok: false,
        error: 'invalid_grant',
        description: 'Refresh token is invalid: it has already been used.',
        refreshTokenReused: true,
      };
    }
    if (record.status === 'revoked') {
      return { ok: false, error: 'invalid_grant', description: 'Refresh token has been revoked.' };
    }
    if (this.now() >= record.expiresAt) {
      return { ok: false, error: 'invalid_grant', description: 'Refresh token is expired.' };
    }
    record.status = 'rotated';
    return { ok: true, tokens: this.issueTokens(record.openId, record.scopes) };
  }

  lookupAccessToken(token: string): AccessTokenLookup {
    const record = this.accessTokens.get(token);
    if (!record) return { ok: false };
    if (record.revoked || this.now() >= record.expiresAt) return { ok: false, openId: record.openId };
    return { ok: true, openId: record.openId, scopes: record.scopes };
  }

  /** The account an access or refresh token belongs to, valid or not. */
  tokenOwner(token: string): string | undefined {
    return this.accessTokens.get(token)?.openId ?? this.refreshTokens.get(token)?.openId;
  }

  /** Cuts this client off from the user: every token and unused code of theirs stops working. */
  revokeUser(openId: string): void {
    for (const r of this.accessTokens.values()) if (r.openId === openId) r.revoked = true;
    for (const r of this.refreshTokens.values()) if (r.openId === openId) r.status = 'revoked';
    for (const r of this.codes.values()) if (r.openId === openId) r.used = true;
  }

  userExists(openId: string): boolean {
    return findProfile(openId) !== undefined;
  }

  // --- failures ------------------------------------------------------------------------------------------------

  injectFailure(f: SandboxFailure): PendingFailure {
    const pending: PendingFailure = { ...f, remaining: f.times ?? 1 };
    this.failures.push(pending);
    return pending;
  }

  clearFailures(): void {
    this.failures = [];
  }

  pendingFailures(): PendingFailure[] {
    return this.failures.map((f) => ({ ...f }));
  }

  /** Takes one use of the first failure that matches this call, if any. */
  takeFailure(endpoint: SandboxEndpoint, openId: string | undefined): PendingFailure | undefined {
    const index = this.failures.findIndex(
      (f) => f.endpoint === endpoint && (f.openId === undefined || f.openId === openId),
    );
    const failure = this.failures[index];
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.failures.splice(index, 1);
    return { ...failure };
  }

  // --- call log ------------------------------------------------------------------------------------------------

  record(call: Omit<SandboxCall, 'at'>): void {
    const entry: SandboxCall = { at: new Date().toISOString(), ...call };
    for (const key of Object.keys(entry) as (keyof SandboxCall)[]) {
      if (entry[key] === undefined) delete entry[key];
    }
    this.callLog.push(entry);
  }

  calls(filter: { endpoint?: SandboxEndpoint | undefined; openId?: string | undefined } = {}): SandboxCall[] {
    return this.callLog.filter(
      (c) =>
        (filter.endpoint === undefined || c.endpoint === filter.endpoint) &&
        (filter.openId === undefined || c.openId === filter.openId),
    );
  }

  resetCalls(): void {
    this.callLog = [];
  }
}
