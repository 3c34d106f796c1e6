/**
 * Whether an error says PostgreSQL is unavailable (down, restarting, unreachable, out of connections, or a statement
 * cut by `statement_timeout`), as opposed to a bug or a constraint: the apps answer these 503 with `Retry-After`
 * instead of 500. Covers Prisma's own codes, the pg driver adapter's error kinds (`meta.driverAdapterError.cause`)
 * and node-postgres's plain errors; causes are followed.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const { code, meta } = e as { code?: unknown; meta?: { driverAdapterError?: { cause?: AdapterCause } } };
    if (typeof code === 'string' && (PRISMA_UNAVAILABLE_CODES.has(code) || isUnavailableSqlState(code))) return true;
    const cause = meta?.driverAdapterError?.cause ?? (e as { cause?: AdapterCause }).cause;
    if (cause && typeof cause === 'object' && !(cause instanceof Error) && isUnavailableAdapterCause(cause))
      return true;
    if (PG_UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(e.message))) return true;
  }
  return false;
}

interface AdapterCause {
  kind?: unknown;
  code?: unknown;
}

/**
 * P1001 can't reach the server, P1002 reached but timed out, P1008 operation timed out, P1017 server closed the
 * connection, P2024 timed out waiting for a pooled connection, P2037 too many connections.
 */
const PRISMA_UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);

const ADAPTER_UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TlsConnectionError',
]);

function isUnavailableAdapterCause(cause: AdapterCause): boolean {
  if (typeof cause.kind === 'string' && ADAPTER_UNAVAILABLE_KINDS.has(cause.kind)) return true;
  return cause.kind === 'postgres' && typeof cause.code === 'string' && isUnavailableSqlState(cause.code);
}

/**
 * SQLSTATEs of an unavailable server: class 08 (connection exception), class 53 (insufficient resources: too many
 * connections, out of memory, disk full), 57P01–57P03 (shutting down, crashed, starting up), 57014 (cancelled: our
 * `statement_timeout`), 55P03 (lock not available: `lock_timeout`).
 */
function isUnavailableSqlState(code: string): boolean {
  return /^(08|53)[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code) || code === '57014' || code === '55P03';
}

/** node-postgres's errors without a code: the socket ended, or the pool had no connection in time. */
const PG_UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Query read timeout$/,
  /Can't reach database server/,
];
