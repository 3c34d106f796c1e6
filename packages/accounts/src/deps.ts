import type { Keyring } from '@ttc/crypto';
import type { PrismaClient } from '@ttc/db';
import type { Queues } from '@ttc/queue';
import type { Redis } from 'ioredis';

/** The subset of a pino logger the services use; objects passed to it never hold tokens. */
export interface AccountsLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the account services need; built once per process. */
export interface AccountsDeps {
  prisma: PrismaClient;
  keyring: Keyring;
  /** A plain-command connection (role `client`), for connect outcomes. */
  redis: Redis;
  queues: Queues;
  /** The BullMQ prefix; outcome keys live under it too. */
  queuePrefix: string;
  logger?: AccountsLogger;
  /** How long before the access token expires its refresh is due (`config.refreshLeadSeconds`); default 600. */
  refreshLeadSeconds?: number;
}
