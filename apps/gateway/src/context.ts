import type { Accounts } from '@ttc/accounts';
import type { AppConfig } from '@ttc/config';
import type { Keyring } from '@ttc/crypto';
import type { PrismaClient } from '@ttc/db';
import type { Queues, RedisClient } from '@ttc/queue';
import type { TikTokClient } from '@ttc/tiktok';
import type { GatewayMetrics } from './plugins/metrics.js';
import type { BrowserCookies } from './services/browser-cookies.js';
import type { ConnectOutcomeWaiter } from './services/connect-outcome.js';
import type { ConnectSessionStore } from './services/connect-sessions.js';

/** Everything route handlers use, built once in `buildGateway` and passed to each route plugin. */
export interface GatewayContext {
  config: AppConfig;
  prisma: PrismaClient;
  redis: RedisClient;
  queues: Queues;
  tiktok: TikTokClient;
  keyring: Keyring;
  /** The gateway's one account service (its single flight is what concurrent access-token requests share). */
  accounts: Accounts;
  sessions: ConnectSessionStore;
  /** Waits for the worker to store a connection (the connect page's "Adding…"), woken by the job's event. */
  connectOutcomes: ConnectOutcomeWaiter;
  cookies: BrowserCookies;
  metrics: GatewayMetrics;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now: () => number;
}

export interface RouteOptions extends Record<string, unknown> {
  ctx: GatewayContext;
}
