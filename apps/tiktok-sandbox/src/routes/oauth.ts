import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type CallInfo, field, finish, logIdOf, oauthError, type SandboxContext, serveJsonFailure } from '../http.js';
import type { PendingFailure, TokenOutcome } from '../state.js';

function isForm(req: FastifyRequest): boolean {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/x-www-form-urlencoded';
}

/**
 * The checks every OAuth endpoint makes before looking at the grant. Returns the error to send, if any.
 * invalid_client is answered with 401, as RFC 6749 §5.2 allows and most providers do.
 */
function checkClient(
  ctx: SandboxContext,
  req: FastifyRequest,
): { status: number; error: string; description: string } | undefined {
  if (!isForm(req)) {
    return {
      status: 400,
      error: 'invalid_request',
      description: 'Content-Type must be application/x-www-form-urlencoded.',
    };
  }
  const clientKey = field(req.body, 'client_key');
  const clientSecret = field(req.body, 'client_secret');
  if (!clientKey || !clientSecret) {
    return { status: 400, error: 'invalid_request', description: 'client_key and client_secret are required.' };
  }
  if (clientKey !== ctx.state.clientKey || clientSecret !== ctx.state.clientSecret) {
    return { status: 401, error: 'invalid_client', description: 'Client key or secret is invalid.' };
  }
  return undefined;
}

export function registerOAuthRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;

  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store').header('pragma', 'no-cache');

  /** Serves the failure (true), or lets the call go on (false). */
  const maybeFail = async (
    req: FastifyRequest,
    reply: FastifyReply,
    failure: PendingFailure | undefined,
    call: CallInfo,
    afterProcessing: boolean,
  ) => {
    if (!failure || (failure.afterProcessing ?? false) !== afterProcessing) return false;
    return serveJsonFailure(ctx, req, reply, failure, call, 'oauth');
  };

  app.post('/v2/oauth/token/', async (req, reply) => {
    noStore(reply);
    const grantType = field(req.body, 'grant_type');
    const endpoint = grantType === 'refresh_token' ? 'refresh' : 'token';
    const code = field(req.body, 'code');
    const refreshToken = field(req.body, 'refresh_token');
    const openId =
      endpoint === 'refresh'
        ? refreshToken && state.refreshTokenOwner(refreshToken)
        : code !== undefined
          ? state.codeOwner(code)
          : undefined;
    const failure = state.takeFailure(endpoint, openId || undefined);
    const call: CallInfo = {
      endpoint,
      openId: openId || undefined,
      grantType,
      injectedFailure: failure?.kind === 'latency' ? 'latency' : undefined,
    };
    const early = await maybeFail(req, reply, failure, call, false);
    if (early) return reply;

    const fail = (status: number, error: string, description: string, extra: Partial<CallInfo> = {}) =>
      finish(ctx, req, reply, { ...call, ...extra, error }, status, oauthError(req, error, description));

    const clientProblem = checkClient(ctx, req);
    if (clientProblem) return fail(clientProblem.status, clientProblem.error, clientProblem.description);
    if (!grantType) return fail(400, 'invalid_request', 'grant_type is required.');

    let outcome: TokenOutcome;
    if (grantType === 'authorization_code') {
      if (!code) return fail(400, 'invalid_request', 'code is required.');
      outcome = state.exchangeCode({
        code,
        redirectUri: field(req.body, 'redirect_uri'),
        codeVerifier: field(req.body, 'code_verifier'),
      });
    } else if (grantType === 'refresh_token') {
      if (!refreshToken) return fail(400, 'invalid_request', 'refresh_token is required.');
      outcome = state.refresh(refreshToken);
    } else {
      return fail(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token.');
    }

    const late = await maybeFail(req, reply, failure, call, true);
    if (late) return reply;
    if (!outcome.ok) {
      return fail(400, outcome.error, outcome.description, {
        codeReused: outcome.codeReused,
        refreshTokenReused: outcome.refreshTokenReused,
      });
    }
    return finish(ctx, req, reply, { ...call, openId: outcome.tokens.open_id }, 200, {
      ...outcome.tokens,
      log_id: logIdOf(req),
    });
  });

  app.post('/v2/oauth/revoke/', async (req, reply) => {
    noStore(reply);
    const token = field(req.body, 'token');
    const openId = token ? state.tokenOwner(token) : undefined;
    const failure = state.takeFailure('revoke', openId);
    const call: CallInfo = {
      endpoint: 'revoke',
      openId,
      injectedFailure: failure?.kind === 'latency' ? 'latency' : undefined,
    };
    const early = await maybeFail(req, reply, failure, call, false);
    if (early) return reply;

    const fail = (status: number, error: string, description: string) =>
      finish(ctx, req, reply, { ...call, error }, status, oauthError(req, error, description));
    const clientProblem = checkClient(ctx, req);
    if (clientProblem) return fail(clientProblem.status, clientProblem.error, clientProblem.description);
    if (!token) return fail(400, 'invalid_request', 'token is required.');

    // An unknown or already revoked token is not an error (RFC 7009 §2.2): revoking stays idempotent.
    if (openId !== undefined) state.revokeUser(openId);
    const late = await maybeFail(req, reply, failure, call, true);
    if (late) return reply;
    return finish(ctx, req, reply, call, 200);
  });
}
