import { Prisma } from '@ttc/db';
import {
  type AccountConnectedPayload,
  accountConnectedPayload,
  describePayloadIssues,
  recordConnectResult,
} from '@ttc/queue';
import { accountEventOutbox } from '@ttc/webhooks';
import type { AccountsContext } from './deps.js';
import { AccountError, AccountErrorCode } from './errors.js';
import { eventsFor } from './refresh.js';
import { computeNextRefreshAt } from './refresh-jobs.js';
import { uuidv7 } from './uuid.js';

/** What storing a connection did. Holds no secret. */
export interface ConnectOutcome {
  connectionId: string;
  accountId: string;
  openId: string;
  outcome: 'added' | 'reconnected';
  displayName: string;
  username: string | null;
}

interface UpsertRow {
  id: string;
  webhook_delivery_ids?: string[];
  inserted: boolean;
  display_name: string;
  username: string | null;
  status: string;
  next_refresh_at: Date | null;
}

/**
 * Stores a connection: adds the account, or updates the same account (same user, platform and openId) again.
 *
 * - One statement decides insert or update (`INSERT … ON CONFLICT … DO UPDATE`), so two jobs for the same account at
 *   once yield one row; the conflicting row stays locked until the transaction ends, which serializes the rest.
 * - Tokens obtained earlier than the row's current ones never overwrite them: `tokens_obtained_at` is written by every
 *   (re)connection (the payload's `obtainedAt`) and every refresh. A connection obtained before the account was
 *   disconnected does not bring it back either.
 * - The refresh is scheduled (`nextRefreshAt` and the account's one `token.refresh` job) after the commit, also on a
 *   replay, so a crash between the two is healed by the job's retry (or the reconciler).
 * - Idempotent per `connectionId`: the event carries it in `data.connectionId`, and a connection that already has an
 *   event records none again. A replay therefore changes nothing and reports the same outcome.
 * - Never touches the user's other accounts: every write is keyed on the unique triple.
 *
 * The outcome is also recorded in the connect session it came from (`result:<connectionId>`), where the gateway's
 * connect page reads it: the one place for every connect result. It holds no secret.
 *
 * The payload is validated here, where it enters the worker from Redis (a malformed one is `ACCOUNT_INVALID_PAYLOAD`,
 * which no retry can fix); the gateway validated it with the same schema before enqueueing.
 */
export async function applyConnection(ctx: AccountsContext, payload: unknown): Promise<ConnectOutcome> {
  const parsed = accountConnectedPayload.safeParse(payload);
  if (!parsed.success) {
    throw new AccountError(
      AccountErrorCode.INVALID_PAYLOAD,
      describePayloadIssues('account.connected', parsed.error.issues),
    );
  }
  const p: AccountConnectedPayload = parsed.data;
  const obtainedAt = new Date(p.obtainedAt);
  const nextRefreshAt = computeNextRefreshAt(
    { obtainedAt, accessTokenExpiresAt: new Date(p.accessTokenExpiresAt) },
    ctx.settings,
  );
  const now = new Date(ctx.now());

  const connectionData = JSON.stringify({
    connectionId: p.connectionId,
    connectSessionId: p.connectSessionId,
    scopes: p.scopes,
    ...(p.apiKey ? { apiKey: p.apiKey } : {}),
  });
  // The webhooks of those events (account.connected / reconnected / refresh_token_expiring), from the same rows.
  const outbox = accountEventOutbox(
    ctx.outbox.endpoints,
    { events: Prisma.sql`events`, accounts: Prisma.sql`upserted` },
    now,
  );
  // One statement: the upsert, its CONNECTED or RECONNECTED event and, if due, the refresh-token expiry warning,
  // with their webhook outbox rows, atomic without a transaction of our own. The conflicting row stays locked until it commits, which serializes
  // concurrent jobs for the same account. Prepared once per connection (its result columns are written out, so the
  // `a.*` of the CTE is safe across schema changes): parsing and planning it was half of Postgres's work per job.
  const [applied] = await ctx.prisma.$queryRaw<UpsertRow[]>`/* prepared */
    WITH upserted AS (
      INSERT INTO social_accounts AS a (
        id, user_id, platform, open_id, union_id, display_name, username, avatar_url, scopes, status,
        access_token_ciphertext, refresh_token_ciphertext, access_token_expires_at, refresh_token_expires_at,
        next_refresh_at, tokens_obtained_at, connected_at, created_at, updated_at
      ) VALUES (
        ${uuidv7(now.getTime())}::uuid, ${p.userId}, 'TIKTOK'::"platform", ${p.openId}, ${p.unionId}, ${p.displayName},
        ${p.username}, ${p.avatarUrl}, ${p.scopes}::text[], 'ACTIVE'::"account_status",
        ${p.accessTokenCiphertext}, ${p.refreshTokenCiphertext}, ${p.accessTokenExpiresAt}::timestamptz,
        ${p.refreshTokenExpiresAt}::timestamptz, ${nextRefreshAt.toISOString()}::timestamptz,
        ${p.obtainedAt}::timestamptz, ${p.obtainedAt}::timestamptz, ${now}, ${now}
      )
      ON CONFLICT (user_id, platform, open_id) DO UPDATE SET
        union_id = EXCLUDED.union_id,
        display_name = EXCLUDED.display_name,
        username = EXCLUDED.username,
        avatar_url = EXCLUDED.avatar_url,
        scopes = EXCLUDED.scopes,
        status = 'ACTIVE'::"account_status",
        access_token_ciphertext = EXCLUDED.access_token_ciphertext,
        refresh_token_ciphertext = EXCLUDED.refresh_token_ciphertext,
        access_token_expires_at = EXCLUDED.access_token_expires_at,
        refresh_token_expires_at = EXCLUDED.refresh_token_expires_at,
        token_version = a.token_version + 1,
        next_refresh_at = EXCLUDED.next_refresh_at,
        tokens_obtained_at = EXCLUDED.tokens_obtained_at,
        refresh_failure_count = 0,
        last_error = NULL,
        last_error_at = NULL,
        connected_at = EXCLUDED.connected_at,
        disconnected_at = NULL,
        updated_at = EXCLUDED.updated_at
      WHERE a.tokens_obtained_at < EXCLUDED.tokens_obtained_at
        AND (a.disconnected_at IS NULL OR a.disconnected_at < EXCLUDED.connected_at)
      RETURNING a.*, (a.xmax = 0) AS inserted
    ), events AS (${eventsFor(
      ctx,
      Prisma.sql`upserted`,
      {
        type: Prisma.sql`CASE WHEN s.inserted THEN 'CONNECTED' ELSE 'RECONNECTED' END`,
        message: Prisma.sql`CASE WHEN s.inserted THEN 'Account connected' ELSE 'Account reconnected' END`,
        data: Prisma.sql`${connectionData}::jsonb`,
      },
      now,
      true,
    )}) ${outbox.ctes}
    SELECT id::text AS id, inserted, display_name, username, status::text AS status, next_refresh_at,
      ${outbox.deliveryIds} AS webhook_delivery_ids
    FROM upserted`;

  // Not applied: a replay of this connection (its event says what it did), or the account exists with newer tokens
  // (or a later disconnect), which this older connection must not overwrite.
  const row =
    applied ??
    (
      await ctx.prisma.$queryRaw<(UpsertRow & { previous: string | null })[]>`
        SELECT a.id::text AS id, false AS inserted, a.display_name, a.username, a.status::text AS status,
          a.next_refresh_at, e.type::text AS previous
        FROM social_accounts a
        LEFT JOIN LATERAL (
          SELECT type FROM account_events
          WHERE account_id = a.id AND data->>'connectionId' = ${p.connectionId}
          LIMIT 1
        ) e ON true
        WHERE a.user_id = ${p.userId} AND a.platform = 'TIKTOK'::"platform" AND a.open_id = ${p.openId}`
    )[0];
  if (!row) {
    // Unreachable: the INSERT either inserted or found the row (and rows are never deleted by a connection).
    throw new Error('account row vanished during connection');
  }
  const previous = 'previous' in row ? (row.previous as string | null) : null;
  const replay = !applied && previous !== null;
  const result = {
    row,
    applied: applied !== undefined,
    replay,
    outcome: (applied ? applied.inserted : previous === 'CONNECTED') ? ('added' as const) : ('reconnected' as const),
  };

  const outcome: ConnectOutcome = {
    connectionId: p.connectionId,
    accountId: result.row.id,
    openId: p.openId,
    outcome: result.outcome,
    displayName: result.row.display_name,
    username: result.row.username,
  };
  // Thrown errors make the connection job retry; the replay then lands here again and records the same outcome.
  // The result, the refresh job and the webhook deliveries are independent writes: sent together, one round trip
  // of waiting instead of three (the user's page waits for this job).
  const refreshAt = result.row.next_refresh_at;
  await Promise.all([
    recordConnectResult(ctx.redis, ctx.queuePrefix, p.connectSessionId, p.connectionId, {
      kind: 'done',
      outcome: outcome.outcome,
      accountId: outcome.accountId,
      openId: outcome.openId,
      displayName: outcome.displayName,
      username: outcome.username,
      at: now.toISOString(),
    }),
    (result.applied || result.replay) && result.row.status === 'ACTIVE' && refreshAt
      ? ctx.refreshJobs.schedule(
          { id: result.row.id, nextRefreshAt: refreshAt },
          // A row this statement inserted has no refresh job yet: added without looking for one first.
          { newAccount: applied?.inserted === true },
        )
      : undefined,
    ctx.outbox.enqueue(applied?.webhook_delivery_ids ?? []),
  ]);
  const log = { connectionId: p.connectionId, accountId: outcome.accountId, outcome: outcome.outcome };
  if (result.replay) {
    ctx.logger?.info(log, 'connection already applied; replay changed nothing');
  } else if (!result.applied) {
    ctx.logger?.warn(log, 'connection older than the stored tokens or a later disconnect; tokens left unchanged');
  } else {
    ctx.logger?.info(log, outcome.outcome === 'added' ? 'account added' : 'account reconnected');
  }
  return outcome;
}

/** See `Accounts.recordConnectionFailed`. */
export async function recordConnectionFailed(ctx: AccountsContext, payload: unknown): Promise<void> {
  const { connectSessionId, connectionId } = (payload ?? {}) as Record<string, unknown>;
  if (typeof connectSessionId !== 'string' || typeof connectionId !== 'string') return;
  await recordConnectResult(ctx.redis, ctx.queuePrefix, connectSessionId, connectionId, {
    kind: 'failed',
    reason: 'We could not save your account. Please try again in a moment.',
  });
}
