import { type DefaultJobOptions, Queue } from 'bullmq';
import type { RedisClient } from './connection.js';
import { QueueNames } from './names.js';
import type {
  AccountConnectedPayload,
  AccountRevokePayload,
  TokenRefreshJobData,
  WebhookDeliverPayload,
} from './payloads.js';

const DAY_SECONDS = 86_400;

/**
 * Retry and retention per queue. Completed jobs are removed at once: their payloads may hold (encrypted) tokens and
 * nothing reads them afterwards. Failed jobs are kept a week, bounded, so operators can inspect and retry them.
 */
export const defaultJobOptions: Record<keyof typeof QueueNames, DefaultJobOptions> = {
  accountConnected: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * DAY_SECONDS, count: 10_000 },
  },
  // One refresh job per account lives in Redis at all times, and BullMQ copies these options into every job's `opts`
  // field: none at all, so that every field of the job hash stays under Redis's `hash-max-listpack-value` (64 bytes)
  // and the hash keeps the compact listpack encoding. Retention moves to the worker ({@link tokenRefreshWorkerOptions});
  // retries of failed refreshes are the processor's own (it moves its job to delayed), and so are retries after
  // unexpected errors (database down), which BullMQ's `attempts` used to cover.
  tokenRefresh: {},
  accountRevoke: {
    // "Retried until done": about three days of capped exponential retries.
    attempts: 30,
    backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 30 * DAY_SECONDS, count: 10_000 },
  },
  // The processor schedules retries itself (the job moves to delayed at the backoff it wrote to the delivery log),
  // so BullMQ's attempts are only the net for unexpected errors (database down); the sweeper replaces a job that
  // exhausted them. Completed jobs hold nothing worth keeping (the log is in Postgres).
  webhookDeliver: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * DAY_SECONDS, count: 10_000 },
  },
};

/**
 * Job retention of the refresh queue, set on its Worker instead of in each job (see `defaultJobOptions.tokenRefresh`).
 * Jobs of the legacy format carry their own options, which take precedence.
 */
export const tokenRefreshWorkerOptions = {
  removeOnComplete: { count: 0 },
  removeOnFail: { count: 1_000 },
} as const;

export interface Queues {
  accountConnected: Queue<AccountConnectedPayload>;
  tokenRefresh: Queue<TokenRefreshJobData>;
  accountRevoke: Queue<AccountRevokePayload>;
  webhookDeliver: Queue<WebhookDeliverPayload>;
  all(): Queue[];
  close(): Promise<void>;
}

export interface CreateQueuesOptions {
  connection: RedisClient;
  /** BullMQ key prefix; tests use a unique one each so that they never see each other's jobs. */
  prefix: string;
}

/** Producer-side handles on every queue, with this project's default job options. */
export function createQueues({ connection, prefix }: CreateQueuesOptions): Queues {
  const make = <T>(key: keyof typeof QueueNames) =>
    new Queue<T>(QueueNames[key], { connection, prefix, defaultJobOptions: defaultJobOptions[key] });
  const accountConnected = make<AccountConnectedPayload>('accountConnected');
  const tokenRefresh = make<TokenRefreshJobData>('tokenRefresh');
  const accountRevoke = make<AccountRevokePayload>('accountRevoke');
  const webhookDeliver = make<WebhookDeliverPayload>('webhookDeliver');
  const all = () => [accountConnected, tokenRefresh, accountRevoke, webhookDeliver] as Queue[];
  return {
    accountConnected,
    tokenRefresh,
    accountRevoke,
    webhookDeliver,
    all,
    close: async () => {
      await Promise.all(all().map((q) => q.close()));
    },
  };
}

/**
 * For a shutdown: closes the queues, then each Redis connection (QUIT, or a plain disconnect when that fails). The
 * connections are closed even when closing the queues failed.
 */
export async function closeQueuesAndConnections(queues: Queues, connections: RedisClient[]): Promise<void> {
  try {
    await queues.close();
  } finally {
    await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
  }
}
