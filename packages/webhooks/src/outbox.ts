import { Prisma } from '@ttc/db';

/**
 * The transactional outbox, as SQL fragments that the account service places INSIDE the statement (or transaction)
 * that changes an account: the webhook event and one delivery per configured endpoint commit with the change, or not
 * at all. The caller enqueues the returned delivery ids after its commit; the sweeper repairs a lost enqueue.
 *
 * With no endpoint configured, nothing is recorded (the fragments are empty).
 */

/** Outbox CTEs and the expression listing the delivery ids they inserted (a `text[]`). */
export interface OutboxSql {
  /** Empty, or `, wh_events AS (…), wh_deliveries AS (…)`: append after the statement's own CTEs. */
  ctes: Prisma.Sql;
  /** A `text[]` expression of the inserted delivery ids (empty array when nothing is recorded). */
  deliveryIds: Prisma.Sql;
}

/** The account event types (account_events.type) that are webhooks, and their webhook type. */
const TYPE_OF_EVENT = Prisma.sql`CASE ev.type::text
  WHEN 'CONNECTED' THEN 'account.connected'
  WHEN 'RECONNECTED' THEN 'account.reconnected'
  WHEN 'DISCONNECTED' THEN 'account.disconnected'
  WHEN 'REAUTH_REQUIRED' THEN 'account.reauth_required'
  WHEN 'REFRESH_TOKEN_EXPIRING' THEN 'account.refresh_token_expiring'
  WHEN 'REFRESHED' THEN CASE WHEN (ev.data->>'recovered')::boolean THEN 'account.recovered' END
END`;

function deliveriesCte(endpoints: readonly string[]): Prisma.Sql {
  return Prisma.sql`wh_deliveries AS (
    INSERT INTO webhook_deliveries (id, event_id, endpoint, state, next_attempt_at, created_at, updated_at)
    SELECT gen_random_uuid(), w.id, u.endpoint, 'PENDING'::"webhook_delivery_state", w.created_at, w.created_at,
      w.created_at
    FROM wh_events w CROSS JOIN unnest(${endpoints as string[]}::text[]) AS u(endpoint)
    RETURNING id
  )`;
}

const IDS = Prisma.sql`(SELECT coalesce(array_agg(id::text), '{}'::text[]) FROM wh_deliveries)`;
const NONE: OutboxSql = { ctes: Prisma.empty, deliveryIds: Prisma.sql`'{}'::text[]` };

/**
 * Webhook events for the account events inserted by the CTE `events` (columns `account_id`, `type`, `data`; e.g. an
 * `INSERT INTO account_events … RETURNING account_id, type, data`), with the account as it stands after the change
 * taken from the CTE `accounts` (a `social_accounts` row: `RETURNING *`). Only the mapped types become webhooks
 * (CONNECTED, RECONNECTED, DISCONNECTED, REAUTH_REQUIRED, REFRESH_TOKEN_EXPIRING, and REFRESHED whose data says
 * `recovered: true`). `data` is built from an allow-list of columns: no token or ciphertext can reach it.
 */
export function accountEventOutbox(
  endpoints: readonly string[],
  refs: { events: Prisma.Sql; accounts: Prisma.Sql },
  at: Date,
): OutboxSql {
  if (endpoints.length === 0) return NONE;
  const occurredAt = at.toISOString();
  const ctes = Prisma.sql`, wh_events AS (
    INSERT INTO webhook_events (id, type, data, created_at)
    SELECT gen_random_uuid(), m.type,
      jsonb_build_object(
        'accountId', s.id::text, 'userId', s.user_id, 'openId', s.open_id, 'displayName', s.display_name,
        'username', s.username, 'avatarUrl', s.avatar_url, 'status', s.status::text, 'scopes', to_jsonb(s.scopes),
        'occurredAt', ${occurredAt}::text
      )
      || CASE WHEN ev.data ? 'connectSessionId'
           THEN jsonb_build_object('connectSessionId', ev.data->'connectSessionId') ELSE '{}'::jsonb END
      || CASE WHEN ev.type::text = 'DISCONNECTED'
           THEN jsonb_build_object('reason', ev.data->'reason', 'actor', ev.data->'actor') ELSE '{}'::jsonb END,
      ${at}::timestamptz
    FROM ${refs.events} ev
    JOIN ${refs.accounts} s ON s.id = ev.account_id
    CROSS JOIN LATERAL (SELECT ${TYPE_OF_EVENT} AS type) m
    WHERE m.type IS NOT NULL
    RETURNING id, created_at
  ), ${deliveriesCte(endpoints)}`;
  return { ctes, deliveryIds: IDS };
}

/**
 * One statement recording `user.erased` (data `{ userId, erasedAccounts, occurredAt }`) with its deliveries, after
 * deleting the user's earlier webhook events (and their deliveries): erasure leaves no profile of the user in the
 * outbox, only the fact of the erasure, which the upstream app must hear about. Returns the delivery ids.
 */
export function userErasedStatement(
  endpoints: readonly string[],
  p: { userId: string; erasedAccounts: number; at: Date },
): Prisma.Sql {
  const data = JSON.stringify({ userId: p.userId, erasedAccounts: p.erasedAccounts, occurredAt: p.at.toISOString() });
  if (endpoints.length === 0) {
    return Prisma.sql`WITH purged AS (DELETE FROM webhook_events WHERE data->>'userId' = ${p.userId} RETURNING id)
      SELECT '{}'::text[] AS ids`;
  }
  return Prisma.sql`WITH purged AS (DELETE FROM webhook_events WHERE data->>'userId' = ${p.userId} RETURNING id),
    wh_events AS (
      INSERT INTO webhook_events (id, type, data, created_at)
      VALUES (gen_random_uuid(), 'user.erased', ${data}::jsonb, ${p.at}::timestamptz)
      RETURNING id, created_at
    ), ${deliveriesCte(endpoints)}
    SELECT ${IDS} AS ids`;
}
