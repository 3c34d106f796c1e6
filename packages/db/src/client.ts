import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.js';

export interface CreatePrismaClientOptions {
  /** Connections in this process's pool (pg `max`). Default 10. */
  poolSize?: number;
  /** How long a query waits for a connection (pooled or new) before failing, in ms. Default 5 000. */
  connectionTimeoutMs?: number;
  /** Closes connections idle for this long, in ms. Default 30 000. */
  idleTimeoutMs?: number;
  /**
   * Postgres `statement_timeout` of every session, in ms: a statement running longer is cancelled (SQLSTATE 57014,
   * which the apps answer 503). Default none (the migration and re-encryption tools); the apps pass
   * `DATABASE_STATEMENT_TIMEOUT_MS`.
   */
  statementTimeoutMs?: number;
  /** Prisma log levels to emit (to stdout/stderr). Default none: apps log through their own logger. */
  log?: ('query' | 'info' | 'warn' | 'error')[];
  /**
   * Named (server-side prepared) statements, see {@link preparedStatementNames}. Default true; turn off behind a
   * pooler that cannot carry them (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`).
   */
  preparedStatements?: boolean;
}

/**
 * Starts a raw statement that may be prepared although it contains a `*` (see {@link preparedStatementNames}): the
 * writer vouches that its result columns are written out, so a schema change only makes Postgres plan it again.
 */
export const PREPARED_MARKER = '/* prepared */';

/**
 * Names for Prisma's pg adapter (`statementNameGenerator`): node-postgres then parses and plans a named statement once
 * per connection and afterwards only binds and executes it. Measured on `applyConnection` (a CTE statement of about
 * 3 kB): Postgres CPU per connection went from ~710 to ~320 µs (`pnpm bench connect-processing`).
 *
 * Only statements that are safe to keep across a schema change are named: a statement whose result has `SELECT *`
 * columns would fail with "cached plan must not change result type" after a migration adds a column, so any text with
 * a `*` stays unnamed unless it starts with {@link PREPARED_MARKER}. Prisma's own queries list their columns.
 * At most `limit` distinct texts get a name, which bounds the statements each connection keeps (queries with a
 * variable number of parameters make new texts); past it, statements are simply unnamed as before.
 */
export function preparedStatementNames(limit = 500): (query: { sql: string }) => string | undefined {
  const names = new Map<string, string | undefined>();
  return ({ sql }) => {
    const known = names.get(sql);
    if (known !== undefined || names.has(sql)) return known;
    if (names.size >= limit) return undefined;
    const safe = !sql.includes('*') || sql.trimStart().startsWith(PREPARED_MARKER);
    const name = safe ? `ttc_${createHash('sha1').update(sql).digest('base64url')}` : undefined;
    names.set(sql, name);
    return name;
  };
}

/**
 * A Prisma client for `databaseUrl`, talking to PostgreSQL through node-postgres (Prisma's pg driver adapter: no
 * native query engine). Call `$disconnect()` on shutdown to close the pool.
 */
export function createPrismaClient(databaseUrl: string, options: CreatePrismaClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg(
    {
      connectionString: databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
      idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
      // node-postgres sends a JS Date as a time without zone, which Postgres reads in the session's time zone: on a
      // server not set to UTC every Date parameter would land hours off. Sessions are pinned to UTC.
      //
      // client_connection_check_interval (PostgreSQL 14+): a statement whose client went away (a process that exited
      // at the end of its stop while the statement waited on a row lock) is cancelled within 2 s instead of running on
      // and committing for nobody once the lock is released.
      options: [
        '-c TimeZone=UTC',
        '-c client_connection_check_interval=2000',
        ...(options.statementTimeoutMs ? [`-c statement_timeout=${Math.floor(options.statementTimeoutMs)}`] : []),
      ].join(' '),
    },
    // Typed as always returning a name, but node-postgres takes `name: undefined` as an unnamed statement, which the
    // adapter passes through as is.
    options.preparedStatements === false
      ? {}
      : { statementNameGenerator: preparedStatementNames() as (query: { sql: string }) => string },
  );
  return new PrismaClient({ adapter, log: options.log ?? [] });
}
