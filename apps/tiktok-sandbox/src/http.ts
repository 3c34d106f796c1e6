import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PendingFailure, SandboxState } from './state.js';
import type { SandboxCall, SandboxFailureKind } from './types.js';

/** What every route gets: the instance's state and how to build absolute URLs. */
export interface SandboxContext {
  state: SandboxState;
  baseUrl(req: FastifyRequest): string;
}

const logIds = new WeakMap<FastifyRequest, string>();

export function setLogId(req: FastifyRequest, logId: string): void {
  logIds.set(req, logId);
}

/** The log id of this request (also sent as the `x-tt-logid` header, as TikTok does). */
export function logIdOf(req: FastifyRequest): string {
  return logIds.get(req) ?? '';
}

export type CallInfo = Omit<SandboxCall, 'at' | 'status' | 'logId'>;

/** Records the call, then sends the response. */
export function finish(
  ctx: SandboxContext,
  req: FastifyRequest,
  reply: FastifyReply,
  call: CallInfo,
  status: number,
  body?: unknown,
): FastifyReply {
  ctx.state.record({ ...call, status, logId: logIdOf(req) });
  reply.code(status);
  return body === undefined ? reply.send() : reply.send(body);
}

export function oauthError(req: FastifyRequest, error: string, description: string) {
  return { error, error_description: description, log_id: logIdOf(req) };
}

export function userInfoError(req: FastifyRequest, code: string, message: string) {
  return { data: {}, error: { code, message, log_id: logIdOf(req) } };
}

/** The status and TikTok error code an injected failure answers with, per response shape. */
export function failureResponse(
  kind: Exclude<SandboxFailureKind, 'latency' | 'drop'>,
  shape: 'oauth' | 'userinfo',
): { status: number; error: string; message: string } {
  const oauth = shape === 'oauth';
  switch (kind) {
    case 'http_500':
      return { status: 500, error: oauth ? 'server_error' : 'internal_error', message: 'Internal server error.' };
    case 'http_503':
      return { status: 503, error: oauth ? 'server_error' : 'internal_error', message: 'Service unavailable.' };
    case 'rate_limit':
      return { status: 429, error: 'rate_limit_exceeded', message: 'Too many requests, please retry later.' };
    case 'temporarily_unavailable':
      return {
        status: 503,
        error: oauth ? 'temporarily_unavailable' : 'internal_error',
        message: 'The server is temporarily unavailable.',
      };
    case 'error_200':
      return {
        status: 200,
        error: oauth ? 'server_error' : 'internal_error',
        message: 'An internal error occurred, please retry.',
      };
    case 'invalid_grant':
      return oauth
        ? { status: 400, error: 'invalid_grant', message: 'The grant is invalid, expired or revoked.' }
        : {
            status: 401,
            error: 'access_token_invalid',
            message: 'The access token is invalid or not found in the request.',
          };
  }
}

/** Closes the connection without an answer; the client sees a socket error. */
export function dropConnection(
  ctx: SandboxContext,
  req: FastifyRequest,
  reply: FastifyReply,
  call: CallInfo,
): FastifyReply {
  ctx.state.record({ ...call, status: 0, injectedFailure: 'drop', logId: logIdOf(req) });
  reply.hijack();
  req.raw.socket?.destroy();
  return reply;
}

/**
 * Serves an injected failure for a JSON endpoint. Returns false when the call should go on normally (latency,
 * after its delay). A boolean, not the reply: a FastifyReply is a thenable, so awaiting it would lose it.
 */
export async function serveJsonFailure(
  ctx: SandboxContext,
  req: FastifyRequest,
  reply: FastifyReply,
  failure: PendingFailure,
  call: CallInfo,
  shape: 'oauth' | 'userinfo',
): Promise<boolean> {
  if (failure.kind === 'latency') {
    await sleep(failure.latencyMs ?? 1000);
    return false;
  }
  if (failure.kind === 'drop') {
    dropConnection(ctx, req, reply, call);
    return true;
  }
  const r = failureResponse(failure.kind, shape);
  if (r.status === 429) reply.header('retry-after', '1');
  const body = shape === 'oauth' ? oauthError(req, r.error, r.message) : userInfoError(req, r.error, r.message);
  finish(ctx, req, reply, { ...call, error: r.error, injectedFailure: failure.kind }, r.status, body);
  return true;
}

/** First value of a query/form field; Fastify turns repeated keys into arrays. */
export function field(source: unknown, name: string): string | undefined {
  if (source === null || typeof source !== 'object') return undefined;
  const value = (source as Record<string, unknown>)[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/** All values of a repeated form field. */
export function fields(source: unknown, name: string): string[] {
  if (source === null || typeof source !== 'object') return [];
  const value = (source as Record<string, unknown>)[name];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is string => typeof v === 'string');
}
