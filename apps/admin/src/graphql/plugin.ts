import { readFileSync } from 'node:fs';
import { isAccountError } from '@ttc/accounts';
import type { FastifyInstance } from 'fastify';
import type { GraphQLError, GraphQLErrorExtensions } from 'graphql';
import mercurius, { type MercuriusContext } from 'mercurius';
import {
  type AdminErrorCode,
  adminError,
  fromAccountError,
  isAdminErrorCode,
  isDependencyUnavailable,
  RETRY_AFTER_SECONDS,
  SERVICE_UNAVAILABLE_MESSAGE,
  statusForCode,
} from '../errors.js';
import { type AdminAuthenticator, requireAdmin } from '../plugins/auth.js';
import type { AdminContext } from './context.js';
import { graphqlJs } from './graphql-js.js';
import { DEFAULT_LIMITS, enforceLimits, type QueryLimits } from './limits.js';
import { loaders } from './loaders.js';
import { resolvers } from './resolvers/index.js';

export const schema = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');

export interface GraphqlPluginOptions {
  auth: AdminAuthenticator;
  context: AdminContext;
  limits?: Partial<QueryLimits>;
}

/** Gives every error a stable `extensions.code`; anything unexpected becomes INTERNAL_SERVER_ERROR with no detail. */
function classify(error: GraphQLError): { code: AdminErrorCode; internal: boolean } {
  const given = error.extensions?.code;
  if (isAdminErrorCode(given)) return { code: given, internal: false };
  const original = error.originalError as (Error & { code?: string; statusCode?: number }) | undefined;
  if (isDependencyUnavailable(original)) return { code: 'SERVICE_UNAVAILABLE', internal: false };
  if (original && !(original instanceof graphqlJs.GraphQLError)) {
    // Fastify body parsing (malformed JSON, wrong content type) and Mercurius request errors (no query, GET mutation).
    const status = original.statusCode ?? 500;
    if (status >= 400 && status < 500) return { code: 'BAD_REQUEST', internal: false };
    if (
      typeof original.code === 'string' &&
      /^(FST_ERR_CTP|MER_ERR_(INVALID_METHOD|METHOD_NOT_ALLOWED|GQL_PERSISTED))/.test(original.code)
    ) {
      return { code: 'BAD_REQUEST', internal: false };
    }
    return { code: 'INTERNAL_SERVER_ERROR', internal: true };
  }
  if (error.message.startsWith('Syntax Error')) return { code: 'GRAPHQL_PARSE_FAILED', internal: false };
  if (/^Variable "\$/.test(error.message)) return { code: 'BAD_USER_INPUT', internal: false };
  // A GraphQLError without a path was raised before execution: validation against the schema.
  if (!error.path) return { code: 'GRAPHQL_VALIDATION_FAILED', internal: false };
  return { code: 'INTERNAL_SERVER_ERROR', internal: true };
}

type Execution = { data?: unknown; errors: readonly GraphQLError[] };

/** An account service's error, in its place (path, locations) as the catalogue answers it (errors.ts). */
function answerAccountError(error: GraphQLError): GraphQLError {
  const mapped = isAccountError(error.originalError) ? fromAccountError(error.originalError) : null;
  if (mapped === null) return error;
  return new graphqlJs.GraphQLError(mapped.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    path: error.path ?? null,
    originalError: mapped,
    extensions: mapped.extensions as GraphQLErrorExtensions,
  });
}

function toGraphQLError(error: Error, wrapper?: Error): GraphQLError {
  if (error instanceof graphqlJs.GraphQLError) return error;
  const e = error as Error & { extensions?: Record<string, unknown>; statusCode?: number; code?: unknown };
  // A bare Error in Mercurius's list (a mutation sent with GET, say) says nothing of its kind; the wrapper
  // (MER_ERR_METHOD_NOT_ALLOWED, 405) does, so classify by the wrapper rather than call it internal.
  const bare = e.statusCode === undefined && e.code === undefined && e.extensions === undefined;
  return new graphqlJs.GraphQLError(e.message, {
    originalError: bare && wrapper ? wrapper : e,
    ...(e.extensions ? { extensions: e.extensions } : {}),
  });
}

/** Mercurius error formatter: stable codes, generic messages for internal errors, and request-level HTTP statuses. */
export function formatErrors(execution: Execution, ctx: MercuriusContext) {
  const log = ctx.reply?.log ?? ctx.app.log;
  const flat: GraphQLError[] = [];
  for (const error of execution.errors) {
    // Mercurius wraps parse, validation and variable errors in one error carrying the list.
    const outer = error.originalError as (Error & { errors?: unknown }) | undefined;
    const inner = outer?.errors;
    if (Array.isArray(inner)) for (const e of inner) flat.push(toGraphQLError(e as Error, outer));
    else flat.push(answerAccountError(error));
  }
  let requestLevelCode: AdminErrorCode | undefined;
  const codes = new Set<AdminErrorCode>();
  const errors = flat.map((error) => {
    const { code, internal } = classify(error);
    codes.add(code);
    if (!error.path && requestLevelCode === undefined) requestLevelCode = code;
    if (code === 'SERVICE_UNAVAILABLE') {
      const cause = error.originalError;
      log.warn({ err: { name: cause?.name, message: cause?.message }, path: error.path }, 'dependency unavailable');
      const json = error.toJSON();
      return { ...json, message: SERVICE_UNAVAILABLE_MESSAGE, extensions: { code } };
    }
    if (internal) {
      log.error({ err: error.originalError ?? error, path: error.path }, 'graphql resolver failed');
    } else {
      log.info({ code, path: error.path, message: error.message }, 'graphql request error');
    }
    const json = error.toJSON();
    return {
      ...json,
      message: internal ? 'Internal server error' : json.message,
      extensions: { ...(internal ? {} : json.extensions), code },
    };
  });
  const data = execution.data ?? null;
  let statusCode = data === null && requestLevelCode !== undefined ? (statusForCode[requestLevelCode] ?? 400) : 200;
  // A dependency down is the server's state, not the query's: 503 with Retry-After, so that clients and proxies
  // retry, even when some fields could be read. A queue field that failed alone keeps its partial 200 answer.
  const unavailable = codes.has('SERVICE_UNAVAILABLE') || (data === null && codes.has('QUEUE_UNAVAILABLE'));
  if (unavailable) {
    statusCode = 503;
    ctx.reply?.header('retry-after', String(RETRY_AFTER_SECONDS));
  }
  return { statusCode, response: { data, errors } };
}

/**
 * POST /graphql (and GET for queries) behind admin auth, with loaders and query limits (GraphiQL: console/graphiql.ts).
 * Registered in its own encapsulated context so the auth hook and Mercurius's error handler stay here.
 */
export async function graphqlPlugin(app: FastifyInstance, options: GraphqlPluginOptions): Promise<void> {
  const limits: QueryLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const guard = requireAdmin(options.auth, { csrf: 'header', onMissing: 'graphql' });
  app.addHook('onRequest', async (request, reply) => guard.call(app, request, reply, () => {}));

  await app.register(mercurius, {
    schema,
    resolvers,
    loaders,
    context: () => ({ ...options.context }),
    // Mercurius's GraphiQL loads React and GraphiQL from a CDN; console/graphiql.ts serves them from the packages.
    graphiql: false,
    path: '/graphql',
    allowBatchedQueries: false,
    // Bounds the parser's work before validation sees the document.
    graphql: { parseOptions: { maxTokens: 5_000 } },
    errorFormatter: formatErrors as never,
  });
  // When a query fails to parse, Mercurius tries it as a JSON-encoded AST: "5", "{}" or a hand-made
  // {"kind":"Document",…} then reaches graphql-js's validation, which fails with a TypeError on anything malformed
  // (a client's mistake reported as an internal error). Only documents parsed from GraphQL text go on: they carry
  // a parser Location, which JSON cannot make.
  app.graphql.addHook('preValidation', async (_schema, document) => {
    if (!((document as { loc?: unknown } | null)?.loc instanceof graphqlJs.Location)) {
      throw adminError('GRAPHQL_PARSE_FAILED', 'The query is not a GraphQL document');
    }
  });
  app.graphql.addHook('preExecution', async (schema, document, _context, variables) => {
    enforceLimits(schema, document, variables, limits);
  });
}
