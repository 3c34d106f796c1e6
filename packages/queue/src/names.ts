/**
 * Queue names. Each kind of job has its own queue so that it gets its own concurrency, retry policy and metrics.
 * The queue name is also the job name that operators see in the queue dashboard.
 */
export const QueueNames = {
  accountConnected: 'account.connected',
  tokenRefresh: 'token.refresh',
  accountRevoke: 'account.revoke',
  webhookDeliver: 'webhook.deliver',
} as const;

export type QueueName = (typeof QueueNames)[keyof typeof QueueNames];
export const ALL_QUEUE_NAMES: readonly QueueName[] = Object.values(QueueNames);

/**
 * Deterministic job ids make every producer idempotent: adding the same job twice is a no-op while the first exists.
 * BullMQ refuses ':' in custom ids, hence the dashes.
 */
export const jobIds = {
  accountConnected: (connectionId: string) => `connected-${connectionId}`,
  /** One refresh job per account: whoever schedules it, there is only ever one. */
  tokenRefresh: (accountId: string) => `refresh-${accountId}`,
  accountRevoke: (accountId: string, tokenVersion: number) => `revoke-${accountId}-${tokenVersion}`,
  /** One job per webhook delivery (event × endpoint) at a time; it moves itself to delayed between retries. */
  webhookDeliver: (deliveryId: string) => `webhook-${deliveryId}`,
};

/**
 * Redis hash of a connect session, keyed by the session's reference (the SHA-256 of its secret id). The gateway owns
 * its fields; the worker only adds the outcome of a connection to it (`result:<connectionId>`), so the connect page
 * reads every result from one place.
 */
export const connectSessionKey = (prefix: string, sessionRef: string) => `${prefix}:connect-session:${sessionRef}`;

/** Redis set of one user's connect session references, keyed by the SHA-256 of the user id (for erasure). */
export const userConnectSessionsKey = (prefix: string, userIdHash: string) =>
  `${prefix}:user-connect-sessions:${userIdHash}`;

/** Redis key of the per-account refresh lock (one refresh at a time across processes). Holds a random token only. */
export const refreshLockKey = (prefix: string, accountId: string) => `${prefix}:refresh-lock:${accountId}`;

/** Redis key of the reconciler's lock: one reconciler pass at a time across workers. */
export const reconcileLockKey = (prefix: string) => `${prefix}:refresh-reconcile-lock`;
