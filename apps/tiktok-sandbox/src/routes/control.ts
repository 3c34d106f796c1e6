import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { logIdOf, type SandboxContext } from '../http.js';
import { SESSION_COOKIE } from '../state.js';
import type { SandboxFailure } from '../types.js';
import { isAcceptableRedirectUri, parseScopes } from './authorize.js';

const ENDPOINTS = ['authorize', 'token', 'refresh', 'revoke', 'userinfo'] as const;
const KINDS = [
  'http_500',
  'http_503',
  'rate_limit',
  'temporarily_unavailable',
  'error_200',
  'invalid_grant',
  'latency',
  'drop',
] as const;

const ttl = z.number().int().nonnegative();
const lifetimesBody = z.strictObject({
  accessTokenTtlSeconds: ttl.optional(),
  refreshTokenTtlSeconds: ttl.optional(),
  codeTtlSeconds: ttl.optional(),
});
/** JSON has no Infinity: "until cleared" travels as the string "Infinity" (or null, what JSON.stringify makes of it). */
const failureBody = z.strictObject({
  endpoint: z.enum(ENDPOINTS),
  kind: z.enum(KINDS),
  times: z.union([z.number().int().positive(), z.literal('Infinity'), z.null()]).optional(),
  latencyMs: z.number().int().nonnegative().max(600_000).optional(),
  openId: z.string().min(1).optional(),
  afterProcessing: z.boolean().optional(),
});
const callsQuery = z.object({ endpoint: z.enum(ENDPOINTS).optional(), openId: z.string().min(1).optional() });
const mintBody = z.strictObject({
  openId: z.string().min(1),
  redirectUri: z.string().min(1),
  scopes: z.array(z.string().min(1)).min(1).optional(),
  codeChallenge: z.string().min(1).optional(),
});
const advanceBody = z.strictObject({ seconds: z.number().nonnegative() });
const sessionBody = z.strictObject({ openId: z.string().min(1) });

function controlError(req: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ error: { code, message }, log_id: logIdOf(req) });
}

/** Test-only JSON API under /__sandbox/: lifetimes, failures, call log, shortcuts. */
export function registerControlRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;

  const parse = <T>(schema: z.ZodType<T>, value: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const result = schema.safeParse(value ?? {});
    if (result.success) return result.data;
    const message = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    void controlError(req, reply, 400, 'SANDBOX_INVALID_REQUEST', message);
    return undefined;
  };
  const ok = (req: FastifyRequest, extra: Record<string, unknown> = {}) => ({
    ok: true,
    ...extra,
    log_id: logIdOf(req),
  });
  const unknownUser = (req: FastifyRequest, reply: FastifyReply, openId: string) =>
    controlError(req, reply, 404, 'SANDBOX_UNKNOWN_USER', `No sandbox user has open_id ${openId}.`);

  app.get('/__sandbox/users', async (req) => ok(req, { users: state.users(ctx.baseUrl(req)) }));

  app.get('/__sandbox/lifetimes', async (req) => ok(req, { lifetimes: state.lifetimes }));
  app.put('/__sandbox/lifetimes', async (req, reply) => {
    const body = parse(lifetimesBody, req.body, req, reply);
    if (!body) return reply;
    for (const [key, value] of Object.entries(body)) {
      if (value !== undefined) state.lifetimes[key as keyof typeof state.lifetimes] = value;
    }
    return ok(req, { lifetimes: state.lifetimes });
  });

  app.get('/__sandbox/failures', async (req) => ok(req, { failures: state.pendingFailures() }));
  app.post('/__sandbox/failures', async (req, reply) => {
    const body = parse(failureBody, req.body, req, reply);
    if (!body) return reply;
    if (body.openId !== undefined && !state.userExists(body.openId)) return unknownUser(req, reply, body.openId);
    const failure: SandboxFailure = { endpoint: body.endpoint, kind: body.kind };
    failure.times =
      body.times === undefined ? 1 : typeof body.times === 'number' ? body.times : Number.POSITIVE_INFINITY;
    if (body.latencyMs !== undefined) failure.latencyMs = body.latencyMs;
    if (body.openId !== undefined) failure.openId = body.openId;
    if (body.afterProcessing !== undefined) failure.afterProcessing = body.afterProcessing;
    state.injectFailure(failure);
    return reply.code(201).send(ok(req));
  });
  app.delete('/__sandbox/failures', async (req) => {
    state.clearFailures();
    return ok(req);
  });

  app.get('/__sandbox/calls', async (req, reply) => {
    const query = parse(callsQuery, req.query, req, reply);
    if (!query) return reply;
    return ok(req, { calls: state.calls(query) });
  });
  app.delete('/__sandbox/calls', async (req) => {
    state.resetCalls();
    return ok(req);
  });

  app.post('/__sandbox/codes', async (req, reply) => {
    const body = parse(mintBody, req.body, req, reply);
    if (!body) return reply;
    if (!state.userExists(body.openId)) return unknownUser(req, reply, body.openId);
    if (!isAcceptableRedirectUri(body.redirectUri, state.redirectUris)) {
      return controlError(req, reply, 400, 'SANDBOX_INVALID_REDIRECT_URI', 'redirectUri is not acceptable.');
    }
    const scopes = parseScopes((body.scopes ?? ['user.info.basic']).join(','));
    const code = state.issueCode({
      openId: body.openId,
      redirectUri: body.redirectUri,
      scopes,
      codeChallenge: body.codeChallenge,
    });
    return reply.code(201).send(ok(req, { code, scopes: scopes.join(',') }));
  });

  app.post<{ Params: { openId: string } }>('/__sandbox/users/:openId/revoke', async (req, reply) => {
    if (!state.userExists(req.params.openId)) return unknownUser(req, reply, req.params.openId);
    state.revokeUser(req.params.openId);
    return ok(req);
  });

  app.post('/__sandbox/clock/advance', async (req, reply) => {
    const body = parse(advanceBody, req.body, req, reply);
    if (!body) return reply;
    state.advanceTime(body.seconds);
    return ok(req);
  });

  app.post('/__sandbox/sessions', async (req, reply) => {
    const body = parse(sessionBody, req.body, req, reply);
    if (!body) return reply;
    if (!state.userExists(body.openId)) return unknownUser(req, reply, body.openId);
    return reply.code(201).send(ok(req, { name: SESSION_COOKIE, value: state.createSession(body.openId) }));
  });

  app.post('/__sandbox/reset', async (req) => {
    state.reset();
    return ok(req);
  });
}
