import { isAccountError } from '@ttc/accounts';
import { isDatabaseUnavailable } from '@ttc/db';
import { isRedisUnavailable } from '@ttc/queue';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { type ErrorBody, fromAccountError, GatewayError, GatewayErrors, isGatewayError } from '../errors.js';
import { renderErrorPage } from '../views/error-page.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route renders HTML for people: errors become a page instead of a JSON body. */
    page?: boolean;
  }
}

/**
 * Maps anything thrown to a catalogue error. Only the catalogue's wording reaches clients for Fastify's errors;
 * a route schema's refusal says what its first issue says (the schemas word their messages for clients).
 * @param page the error is answered with a page rather than a JSON body.
 */
export function toGatewayError(error: unknown, page = false): GatewayError {
  if (isGatewayError(error)) return error;
  // Postgres or Redis down, restarting or too slow (bounded by the statement and command timeouts): 503, not 500.
  if (isDependencyUnavailable(error)) return new GatewayError('GW_UNAVAILABLE', undefined, { cause: error });
  if (isAccountError(error)) return fromAccountError(error, page);
  const e = error as Partial<FastifyError> & { statusCode?: number };
  if (e?.validation) return new GatewayError('GW_VALIDATION', e.validation[0]?.message, { cause: error });
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('GW_INVALID_BODY', undefined, { cause: error });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('GW_BODY_TOO_LARGE', undefined, { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE', undefined, { cause: error });
    default:
      break;
  }
  if (error instanceof SyntaxError && e.statusCode === 400) {
    return new GatewayError('GW_INVALID_BODY', undefined, { cause: error });
  }
  const status = e?.statusCode;
  if (status === 429) return new GatewayError('GW_RATE_LIMITED', undefined, { cause: error });
  if (status === 404) return new GatewayError('GW_NOT_FOUND', undefined, { cause: error });
  if (status === 405) return new GatewayError('GW_METHOD_NOT_ALLOWED', undefined, { cause: error });
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new GatewayError('GW_BAD_REQUEST', undefined, { cause: error });
  }
  return new GatewayError('GW_INTERNAL', undefined, { cause: error });
}

/** Whether `error` says Postgres or Redis is unavailable (the one place the gateway decides it). */
export function isDependencyUnavailable(error: unknown): boolean {
  return isDatabaseUnavailable(error) || isRedisUnavailable(error);
}

function wantsPage(request: FastifyRequest): boolean {
  if (request.routeOptions.config?.page === true) return true;
  if (request.url.startsWith('/v1/')) return false;
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html');
}

/** Sends a catalogue error as a page or as `{ error: { code, message } }`. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply {
  // Messages of 5xx errors are never shown, whatever was thrown: they may describe internals.
  const message = error.statusCode >= 500 ? GatewayErrors[error.code].message : error.message;
  reply.status(error.statusCode).header('cache-control', 'no-store');
  if (error.code === 'GW_UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
  const entry = GatewayErrors[error.code];
  if ('retryAfterSeconds' in entry) reply.header('retry-after', String(entry.retryAfterSeconds));
  if (wantsPage(request)) {
    // A page that failed because something is down offers to load it again (a GET can be repeated safely); not
    // TikTok's callback, whose URL holds a one-time code: that one leads back to the account list instead.
    const unavailable = error.code === 'GW_UNAVAILABLE';
    const callback = request.url.startsWith('/auth/');
    const retry = unavailable && request.method === 'GET' && !callback ? request.url : error.links.retry;
    const backToConnect = error.links.backToConnect ?? (unavailable && callback);
    return reply.type('text/html; charset=utf-8').send(
      renderErrorPage({
        title: error.title,
        message,
        code: error.code,
        returnTo: error.links.returnTo,
        backToConnect,
        retry,
      }),
    );
  }
  const body: ErrorBody = { error: { code: error.code, message } };
  return reply.type('application/json; charset=utf-8').send(body);
}

/** One error handler and one 404 handler for the whole app, both in the catalogue's shape; never a stack. */
export const errorHandling = fastifyPlugin(async (app: FastifyInstance) => {
  app.setErrorHandler((error, request, reply) => {
    const mapped = toGatewayError(error, wantsPage(request));
    if (mapped.code === 'GW_UNAVAILABLE') {
      request.log.warn(
        { err: { name: (error as Error).name, message: (error as Error).message } },
        'dependency unavailable',
      );
    } else if (mapped.statusCode >= 500) {
      request.log.error({ err: error, code: mapped.code }, 'request failed');
    } else {
      request.log.info({ code: mapped.code, status: mapped.statusCode }, 'request refused');
    }
    return sendError(request, reply, mapped);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new GatewayError('GW_NOT_FOUND')));
});
