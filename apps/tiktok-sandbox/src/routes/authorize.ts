import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type CallInfo,
  dropConnection,
  failureResponse,
  field,
  fields,
  logIdOf,
  type SandboxContext,
} from '../http.js';
import { SESSION_COOKIE } from '../state.js';
import type { SandboxAuthorizeOutcome, SandboxUser } from '../types.js';
import { findProfile, SANDBOX_USERS } from '../users.js';
import { consentPage, errorPage, loginPage, MANDATORY_SCOPES, noticePage } from '../views/pages.js';

/** A validated authorize request. */
export interface AuthorizeParams {
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  codeChallenge: string | undefined;
  disableAutoAuth: boolean;
  /** The parameters to carry through the login and consent forms (disable_auto_auth excluded). */
  carry: URLSearchParams;
}

const SCOPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
const CARRIED = [
  'client_key',
  'response_type',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
] as const;

export function parseScopes(value: string): string[] {
  return [
    ...new Set(
      value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}

/** Checks a redirect URI the way TikTok's authorize page does; registered URIs must match exactly. */
export function isAcceptableRedirectUri(value: string, registered: readonly string[]): boolean {
  if (value.length >= 512 || value.includes('#')) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return registered.length === 0 || registered.includes(value);
}

/**
 * Validates authorize parameters (from the query or a carried form). Unknown parameters such as
 * `prompt=select_account` or `force_authentication=true` are ignored, as TikTok ignores them.
 */
export function parseAuthorize(
  ctx: SandboxContext,
  source: unknown,
): { ok: true; params: AuthorizeParams } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const clientKey = field(source, 'client_key');
  if (clientKey !== ctx.state.clientKey) problems.push('client_key');
  const responseType = field(source, 'response_type');
  if (responseType !== 'code') problems.push('response_type');
  const redirectUri = field(source, 'redirect_uri') ?? '';
  if (!isAcceptableRedirectUri(redirectUri, ctx.state.redirectUris)) problems.push('redirect_uri');
  const scopes = parseScopes(field(source, 'scope') ?? '');
  if (scopes.length === 0 || !scopes.every((s) => SCOPE_NAME.test(s))) problems.push('scope');
  const codeChallenge = field(source, 'code_challenge');
  const method = field(source, 'code_challenge_method');
  if (codeChallenge !== undefined || method !== undefined) {
    if (codeChallenge === undefined || codeChallenge === '') problems.push('code_challenge');
    if (method !== 'S256') problems.push('code_challenge_method');
  }
  if (problems.length > 0) return { ok: false, problems };

  const carry = new URLSearchParams();
  for (const name of CARRIED) {
    const value = field(source, name);
    if (value !== undefined) carry.set(name, value);
  }
  return {
    ok: true,
    params: {
      redirectUri,
      scopes,
      state: field(source, 'state'),
      codeChallenge,
      disableAutoAuth: field(source, 'disable_auto_auth') === '1',
      carry,
    },
  };
}

function callbackUrl(redirectUri: string, values: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.toString();
}

function page(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
    )
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

export function registerAuthorizeRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;

  const record = (
    req: FastifyRequest,
    status: number,
    outcome: SandboxAuthorizeOutcome,
    extra: Omit<CallInfo, 'endpoint'> = {},
  ) => state.record({ endpoint: 'authorize', status, authorizeOutcome: outcome, logId: logIdOf(req), ...extra });

  const sessionUser = (req: FastifyRequest): SandboxUser | undefined => {
    const openId = state.sessionUser(req.cookies[SESSION_COOKIE]);
    return openId === undefined ? undefined : findProfile(openId);
  };

  const renderLogin = (req: FastifyRequest, reply: FastifyReply, params: AuthorizeParams, status = 200) =>
    page(
      reply,
      status,
      loginPage({
        appName: state.appName,
        // Pages load avatars from the sandbox's own origin, so relative paths always work.
        users: SANDBOX_USERS,
        current: sessionUser(req),
        carry: params.carry,
      }),
    );

  const renderConsent = (reply: FastifyReply, params: AuthorizeParams, user: SandboxUser) =>
    page(
      reply,
      200,
      consentPage({
        appName: state.appName,
        user,
        scopes: params.scopes,
        carry: params.carry,
      }),
    );

  const badRequest = (req: FastifyRequest, reply: FastifyReply, problems: string[], openId?: string) => {
    record(req, 400, 'error_page', { error: 'invalid_request', openId });
    return page(reply, 400, errorPage({ problems }));
  };

  app.get('/v2/auth/authorize/', async (req, reply) => {
    const user = sessionUser(req);
    const openId = user?.openId;
    const parsed = parseAuthorize(ctx, req.query);

    const failure = state.takeFailure('authorize', openId);
    if (failure) {
      const call: CallInfo = { endpoint: 'authorize', openId, authorizeOutcome: 'injected_failure' };
      if (failure.kind === 'drop') return dropConnection(ctx, req, reply, call);
      if (failure.kind === 'latency') {
        await sleep(failure.latencyMs ?? 1000);
      } else if ((failure.kind === 'temporarily_unavailable' || failure.kind === 'invalid_grant') && parsed.ok) {
        // Errors the authorize endpoint can report back to the client, the OAuth way.
        const r = failureResponse(failure.kind, 'oauth');
        record(req, 302, 'injected_failure', { openId, error: r.error, injectedFailure: failure.kind });
        return reply.redirect(
          callbackUrl(parsed.params.redirectUri, {
            error: r.error,
            error_description: r.message,
            state: parsed.params.state,
          }),
          302,
        );
      } else {
        const r = failureResponse(failure.kind, 'oauth');
        record(req, r.status, 'injected_failure', { openId, error: r.error, injectedFailure: failure.kind });
        if (r.status === 429) reply.header('retry-after', '1');
        return page(reply, r.status, noticePage('Something went wrong', r.message));
      }
    }

    const injected = failure?.kind === 'latency' ? ({ injectedFailure: 'latency' } as const) : {};
    if (!parsed.ok) return badRequest(req, reply, parsed.problems, openId);
    const { params } = parsed;
    if (!user) {
      record(req, 200, 'login_page', injected);
      return renderLogin(req, reply, params);
    }
    if (!params.disableAutoAuth) {
      // The behaviour this project exists for: a live session is reused silently, nothing is shown.
      const code = state.issueCode({
        openId: user.openId,
        redirectUri: params.redirectUri,
        scopes: params.scopes,
        codeChallenge: params.codeChallenge,
      });
      record(req, 302, 'silent_redirect', { openId, ...injected });
      return reply.redirect(
        callbackUrl(params.redirectUri, { code, scopes: params.scopes.join(','), state: params.state }),
        302,
      );
    }
    record(req, 200, 'consent_page', { openId, ...injected });
    return renderConsent(reply, params, user);
  });

  /** The consent page's decision. */
  app.post('/v2/auth/authorize/', async (req, reply) => {
    const user = sessionUser(req);
    const parsed = parseAuthorize(ctx, req.body);
    if (!parsed.ok) return badRequest(req, reply, parsed.problems, user?.openId);
    const { params } = parsed;
    if (!user) {
      record(req, 200, 'login_page');
      return renderLogin(req, reply, params);
    }
    const decision = field(req.body, 'decision');
    if (decision === 'cancel') {
      record(req, 303, 'denied', { openId: user.openId, error: 'access_denied' });
      return reply.redirect(
        callbackUrl(params.redirectUri, {
          error: 'access_denied',
          error_description: 'The user denied the authorization request.',
          state: params.state,
        }),
        303,
      );
    }
    if (decision !== 'authorize') return badRequest(req, reply, ['decision'], user.openId);
    const ticked = new Set(fields(req.body, 'granted_scope'));
    const granted = params.scopes.filter((s) => MANDATORY_SCOPES.has(s) || ticked.has(s));
    const code = state.issueCode({
      openId: user.openId,
      redirectUri: params.redirectUri,
      scopes: granted,
      codeChallenge: params.codeChallenge,
    });
    record(req, 303, 'authorized', { openId: user.openId });
    return reply.redirect(
      callbackUrl(params.redirectUri, { code, scopes: granted.join(','), state: params.state }),
      303,
    );
  });

  /** "Use another account": the login page even when a session exists. */
  app.get('/v2/auth/login/', async (req, reply) => {
    const parsed = parseAuthorize(ctx, req.query);
    if (!parsed.ok) return page(reply, 400, errorPage({ problems: parsed.problems }));
    return renderLogin(req, reply, parsed.params);
  });

  app.post('/v2/auth/login/', async (req, reply) => {
    const parsed = parseAuthorize(ctx, req.body);
    if (!parsed.ok) return page(reply, 400, errorPage({ problems: parsed.problems }));
    const openId = field(req.body, 'open_id');
    if (openId === undefined || findProfile(openId) === undefined) {
      return page(reply, 400, noticePage('Something went wrong', 'This account does not exist in the sandbox.'));
    }
    state.endSession(req.cookies[SESSION_COOKIE]);
    const sid = state.createSession(openId);
    reply.setCookie(SESSION_COOKIE, sid, { path: '/', httpOnly: true, sameSite: 'lax' });
    // After logging in TikTok asks for consent, so the flow goes on to the consent page.
    const next = new URLSearchParams(parsed.params.carry);
    next.set('disable_auto_auth', '1');
    return reply.redirect(`/v2/auth/authorize/?${next.toString()}`, 303);
  });

  app.post('/v2/auth/logout/', async (req, reply) => {
    state.endSession(req.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    const parsed = parseAuthorize(ctx, req.body);
    if (parsed.ok) return reply.redirect(`/v2/auth/login/?${parsed.params.carry.toString()}`, 303);
    return page(reply, 200, noticePage('Logged out', 'You are logged out of the TikTok sandbox.'));
  });
}
