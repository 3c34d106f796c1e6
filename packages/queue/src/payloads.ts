import { z } from 'zod';

/** Encrypted token as produced by @ttc/crypto (versioned, key id first). Never a clear token. */
const ciphertext = z
  .string()
  .regex(/^v\d+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be an encrypted token');
const isoDate = z.iso.datetime({ offset: true });

/**
 * `account.connected`: emitted by the gateway after a successful TikTok callback. Carries the profile and the
 * tokens, encrypted with the account identity (`userId` + `openId`) as associated data.
 */
export const accountConnectedPayload = z.object({
  version: z.literal(1),
  /** Unique per callback; the job id derives from it, so a retried enqueue does not connect twice. */
  connectionId: z.uuid(),
  connectSessionId: z.string().min(1).max(128),
  userId: z.string().min(1).max(255),
  platform: z.literal('TIKTOK'),
  openId: z.string().min(1).max(255),
  unionId: z.string().max(255).nullable(),
  displayName: z.string().max(255),
  username: z.string().max(255).nullable(),
  avatarUrl: z.string().max(2048).nullable(),
  scopes: z.array(z.string().min(1).max(100)).max(50),
  accessTokenCiphertext: ciphertext,
  refreshTokenCiphertext: ciphertext,
  accessTokenExpiresAt: isoDate,
  refreshTokenExpiresAt: isoDate,
  /** When TikTok issued the tokens: a job processed late must not overwrite tokens obtained after it. */
  obtainedAt: isoDate,
  /** The name of the gateway API key that created the connect session (recorded in the account's event). */
  apiKey: z.string().min(1).max(64).optional(),
});
export type AccountConnectedPayload = z.infer<typeof accountConnectedPayload>;

/**
 * `token.refresh`: one delayed job per account, due when the refresh policy says. Scheduled jobs carry nothing (`{}`):
 * the account id is in the job id (`accountIdOfRefreshJob`). Jobs of the legacy format carry `accountId`.
 */
export const tokenRefreshPayload = z.object({
  accountId: z.string().min(1).optional(),
  reason: z.enum(['scheduled', 'manual', 'reconcile', 'on-demand']).default('scheduled'),
  /** When the job was meant to run (ISO), for people reading the queue dashboard. Not written by default: every byte
   * of a job is paid once per account. */
  dueAt: isoDate.optional(),
});
export type TokenRefreshPayload = z.infer<typeof tokenRefreshPayload>;
/**
 * What producers put in a `token.refresh` job: `reason` may be left out (→ `scheduled`), which the scheduler does to
 * keep the job small (`{}`).
 */
export type TokenRefreshJobData = z.input<typeof tokenRefreshPayload>;

/**
 * `account.revoke`: revoke at TikTok after a disconnect. The row's tokens are already wiped, so the job carries the
 * access token, encrypted with the same associated data as the row had.
 */
export const accountRevokePayload = z.object({
  accountId: z.string().min(1),
  userId: z.string().min(1),
  openId: z.string().min(1),
  accessTokenCiphertext: ciphertext,
  /**
   * The row's token version right after the disconnect. The revoke is skipped when the row has moved on (reconnected,
   * or the disconnect never committed): revoking then would cut off the new connection too.
   */
  tokenVersion: z.number().int().min(0).optional(),
});
export type AccountRevokePayload = z.infer<typeof accountRevokePayload>;

/**
 * `webhook.deliver`: one delivery (event × endpoint) of the webhook outbox. Only the delivery's id: the body and the
 * endpoint are read from Postgres (the outbox is the truth), and the signing secret is the worker's configuration.
 */
export const webhookDeliverPayload = z.object({ deliveryId: z.uuid() });
export type WebhookDeliverPayload = z.infer<typeof webhookDeliverPayload>;

/** Names a payload's invalid fields and why, never their values (they may be ciphertexts or user identifiers). */
export function describePayloadIssues(
  queue: string,
  issues: readonly { path: readonly PropertyKey[]; code: string }[],
): string {
  const fields = issues.slice(0, 10).map((i) => `${i.path.map(String).join('.') || '(root)'} (${i.code})`);
  return `${queue} payload is invalid: ${fields.join(', ')}`;
}
