import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.js';

export interface CreatePrismaClientOptions {
  /** Connections in this process's pool (pg `max`). Default 10. */
  poolSize?: number;
  /** How long a query waits for a free connection before failing, in ms. Default 10 000. */
  connectionTimeoutMs?: number;
  /** Closes connections idle for this long, in ms. Default 30 000. */
  idleTimeoutMs?: number;
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
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    // node-postgres sends a JS Date as a time without zone, which Postgres reads in the session's time zone: on a
    // server not set to UTC every Date parameter would land hours off. Sessions are pinned to UTC.
    options: '-c TimeZone=UTC',
  });
  return new PrismaClient({ adapter, log: options.log ?? [] });
}
