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
}

/**
 * A Prisma client for `databaseUrl`, talking to PostgreSQL through node-postgres (Prisma's pg driver adapter: no
 * native query engine). Call `$disconnect()` on shutdown to close the pool.
 */
export function createPrismaClient(databaseUrl: string, options: CreatePrismaClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
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
  });
  return new PrismaClient({ adapter, log: options.log ?? [] });
}
