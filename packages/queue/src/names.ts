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
  /**
   * One refresh job per account: whoever schedules it, there is only ever one. `r` + the account's UUID in base64url
   * (23 characters): a million of these live in Redis at all times, and the id is stored three times per job (the
   * hash's key, its `opts` and the delayed set), so it is kept short. {@link accountIdOfRefreshJob} reverses it.
   */
  tokenRefresh: (accountId: string) => `r${Buffer.from(accountId.replaceAll('-', ''), 'hex').toString('base64url')}`,
  /**
   * The id refresh jobs had before the compact one (`refresh-<uuid>`). Such jobs still run: the reconciler counts them
   * as present, and when one runs it hands the account over to a job with the new id and ends.
   */
  legacyTokenRefresh: (accountId: string) => `refresh-${accountId}`,
  accountRevoke: (accountId: string, tokenVersion: number) => `revoke-${accountId}-${tokenVersion}`,
  /** One job per webhook delivery (event × endpoint) at a time; it moves itself to delayed between retries. */
  webhookDeliver: (deliveryId: string) => `webhook-${deliveryId}`,
};

/** The account id a refresh job id (compact or legacy) stands for; null for anything else. */
export function accountIdOfRefreshJob(jobId: string | undefined): string | null {
  if (!jobId) return null;
  if (jobId.startsWith('refresh-')) return jobId.slice('refresh-'.length);
  if (!/^r[A-Za-z0-9_-]{22}$/.test(jobId)) return null;
  const hex = Buffer.from(jobId.slice(1), 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

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

/**
 * Redis hash of the reconciler's watermark: when its last full pass and its last pass started (epoch ms). It lives in
 * the Redis whose jobs it vouches for: when Redis loses its data, the watermark goes with it and the next pass is full.
 */
export const reconcileMarkKey = (prefix: string) => `${prefix}:refresh-reconciled`;
