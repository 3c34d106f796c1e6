import type { PrismaClient } from '@ttc/db';
import type { RedisClient } from '@ttc/queue';
import { enqueueWebhookDeliveries, jobIds, jobPresence, type Queues } from '@ttc/queue';
import type { WebhookBody, WebhookEventType } from './events.js';
import { type SendResult, sendWebhook } from './send.js';

/** Retry timing of failed deliveries. Production keeps the defaults; tests shorten them. */
export interface WebhookRetrySettings {
  /** First retry delay; doubles per failed attempt. Default 5 s. */
  baseMs: number;
  /** Longest delay between two attempts. Default 1 hour. */
  maxMs: number;
  /**
   * Retries stop (state FAILED) once an attempt fails this long after the event was recorded. Default 3 days: the
   * contract promises at least 24 hours, and a receiver down over a weekend still gets its events.
   */
  windowMs: number;
}

export const defaultWebhookRetry: WebhookRetrySettings = { baseMs: 5_000, maxMs: 3_600_000, windowMs: 3 * 86_400_000 };

/** Exponential backoff with equal jitter (half fixed, half random), capped at `maxMs`. */
export function webhookRetryDelayMs(
  attempts: number,
  s: Pick<WebhookRetrySettings, 'baseMs' | 'maxMs'>,
  random: () => number = Math.random,
): number {
  const exp = Math.min(s.maxMs, s.baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

export interface WebhookDelivererLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface WebhookDelivererOptions {
  prisma: PrismaClient;
  queues: Queues;
  /** Plain-command connection: the sweeper's job-existence checks. */
  redis: RedisClient;
  /** `WEBHOOK_URLS`: a delivery to an endpoint no longer listed is given up (FAILED). */
  endpoints: readonly string[];
  /** `WEBHOOK_SECRETS`: the first signs, all are sent during a rotation. */
  secrets: readonly string[];
  retry?: Partial<WebhookRetrySettings>;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
  logger?: WebhookDelivererLogger;
}

export type DeliveryResult =
  /** The endpoint answered 2xx. */
  | 'delivered'
  /** A failed attempt; the next one is due at `nextAttemptAt`. */
  | 'retry'
  /** Given up: the retry window passed, or the endpoint is no longer configured. */
  | 'failed'
  /** The endpoint answered 410 now or earlier: not sent, and nothing more will be. */
  | 'endpoint_gone'
  /** Nothing to do: unknown id, or already delivered / given up (a duplicate job). */
  | 'skipped';

export interface DeliveryOutcome {
  result: DeliveryResult;
  type: WebhookEventType | null;
  /** Of this attempt, when one was made. */
  send?: SendResult;
  nextAttemptAt?: Date;
}

/** A row of the delivery log. */
export interface WebhookDeliveryRow {
  id: string;
  eventId: string;
  type: string;
  endpoint: string;
  state: 'PENDING' | 'DELIVERED' | 'FAILED' | 'ENDPOINT_GONE';
  attempts: number;
  lastStatus: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The delivery log's columns for {@link WebhookDeliveryRow} (`d` = webhook_deliveries, `e` = webhook_events). */
export const DELIVERY_COLUMNS = `d.id::text AS "id", d.event_id::text AS "eventId", e.type AS "type",
  d.endpoint AS "endpoint", d.state::text AS "state", d.attempts AS "attempts", d.last_status AS "lastStatus",
  d.last_latency_ms AS "lastLatencyMs", d.last_error AS "lastError", d.next_attempt_at AS "nextAttemptAt",
  d.delivered_at AS "deliveredAt", d.created_at AS "createdAt", d.updated_at AS "updatedAt"`;

export interface SweepReport {
  /** Undelivered deliveries looked at. */
  scanned: number;
  /** Their jobs that were missing (Redis lost them, or the enqueue after the commit never happened): added back. */
  added: number;
  /** Failed jobs (attempts exhausted by unexpected errors) replaced by fresh ones. */
  replacedFailed: number;
}

/** Sends the outbox's deliveries; see {@link createWebhookDeliverer}. */
export interface WebhookDeliverer {
  /** One attempt of one delivery, its outcome written to the delivery log. Never throws for a failed send. */
  deliver(deliveryId: string): Promise<DeliveryOutcome>;
  /**
   * Gives every undelivered delivery its job back if it is missing (or failed), due at its `nextAttemptAt`. Postgres
   * is the truth; safe to run at any time and from several workers (deterministic job ids).
   */
  sweep(opts?: { pageSize?: number }): Promise<SweepReport>;
  /**
   * Sends a delivery again, whatever its state, with the same `webhook-id`: back to PENDING, due now. An endpoint
   * flagged gone (410) is re-enabled by this operator action. Null when there is no such delivery.
   */
  redeliver(deliveryId: string): Promise<WebhookDeliveryRow | null>;
}

interface LoadedDelivery {
  id: string;
  endpoint: string;
  state: string;
  attempts: number;
  eventId: string;
  type: WebhookEventType;
  data: WebhookBody['data'];
  eventCreatedAt: Date;
  gone: boolean;
}

/**
 * The delivery side of the outbox: reads a delivery and its event from Postgres, signs and POSTs it (Standard
 * Webhooks), and records the attempt. 2xx → DELIVERED; 410 → ENDPOINT_GONE and the endpoint is flagged
 * (`webhook_endpoints_gone`), so its other deliveries stop too; anything else (other status, timeout, network error)
 * → a retry at an exponential backoff with jitter, until `windowMs` after the event, then FAILED.
 */
export function createWebhookDeliverer(o: WebhookDelivererOptions): WebhookDeliverer {
  const retry = { ...defaultWebhookRetry, ...o.retry };
  const now = o.now ?? Date.now;
  const configured = new Set(o.endpoints);
  const prisma = o.prisma;

  async function finish(
    d: LoadedDelivery,
    state: 'DELIVERED' | 'FAILED' | 'ENDPOINT_GONE' | 'PENDING',
    send: SendResult | undefined,
    error: string | null,
    nextAttemptAt: Date | null,
  ): Promise<void> {
    const at = new Date(now());
    await prisma.$executeRaw`
      UPDATE webhook_deliveries SET
        state = ${state}::"webhook_delivery_state",
        attempts = attempts + ${send ? 1 : 0},
        last_status = ${send ? send.status : null}::int,
        last_latency_ms = ${send ? send.latencyMs : null}::int,
        last_error = ${error},
        next_attempt_at = ${nextAttemptAt}::timestamptz,
        delivered_at = ${state === 'DELIVERED' ? at : null}::timestamptz,
        updated_at = ${at}
      WHERE id = ${d.id}::uuid AND state = 'PENDING'::"webhook_delivery_state"`;
  }

  return {
    async deliver(deliveryId) {
      const [d] = await prisma.$queryRaw<LoadedDelivery[]>`
        SELECT d.id::text AS id, d.endpoint, d.state::text AS state, d.attempts, e.id::text AS "eventId", e.type,
          e.data, e.created_at AS "eventCreatedAt",
          EXISTS (SELECT 1 FROM webhook_endpoints_gone g WHERE g.endpoint = d.endpoint) AS gone
        FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.id = ${deliveryId}::uuid`;
      if (d?.state !== 'PENDING') return { result: 'skipped', type: d?.type ?? null };
      if (!configured.has(d.endpoint)) {
        await finish(d, 'FAILED', undefined, 'endpoint no longer in WEBHOOK_URLS', null);
        return { result: 'failed', type: d.type };
      }
      if (d.gone) {
        await finish(d, 'ENDPOINT_GONE', undefined, 'endpoint answered 410 Gone earlier; re-enable it to resume', null);
        return { result: 'endpoint_gone', type: d.type };
      }
      const body: WebhookBody = { type: d.type, timestamp: d.eventCreatedAt.toISOString(), data: d.data };
      const send = await sendWebhook({
        url: d.endpoint,
        id: d.eventId,
        timestampSeconds: Math.floor(now() / 1000),
        body: JSON.stringify(body),
        secrets: o.secrets,
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.fetch ? { fetch: o.fetch } : {}),
      });
      if (send.status !== null && send.status >= 200 && send.status < 300) {
        await finish(d, 'DELIVERED', send, null, null);
        return { result: 'delivered', type: d.type, send };
      }
      if (send.status === 410) {
        await prisma.$transaction([
          prisma.$executeRaw`INSERT INTO webhook_endpoints_gone (endpoint, delivery_id, gone_at)
            VALUES (${d.endpoint}, ${d.id}::uuid, ${new Date(now())}) ON CONFLICT (endpoint) DO NOTHING`,
          prisma.$executeRaw`UPDATE webhook_deliveries SET state = 'ENDPOINT_GONE'::"webhook_delivery_state",
              attempts = attempts + 1, last_status = 410, last_latency_ms = ${send.latencyMs}::int,
              last_error = 'HTTP 410: endpoint gone; deliveries to it stopped', next_attempt_at = NULL,
              updated_at = ${new Date(now())}
            WHERE id = ${d.id}::uuid AND state = 'PENDING'::"webhook_delivery_state"`,
        ]);
        o.logger?.warn({ deliveryId: d.id, endpoint: d.endpoint }, 'webhook endpoint answered 410: flagged gone');
        return { result: 'endpoint_gone', type: d.type, send };
      }
      if (now() - d.eventCreatedAt.getTime() >= retry.windowMs) {
        await finish(d, 'FAILED', send, `${send.error}; retry window over`, null);
        o.logger?.warn({ deliveryId: d.id, endpoint: d.endpoint, attempts: d.attempts + 1 }, 'webhook given up');
        return { result: 'failed', type: d.type, send };
      }
      const nextAttemptAt = new Date(now() + webhookRetryDelayMs(d.attempts + 1, retry));
      await finish(d, 'PENDING', send, send.error, nextAttemptAt);
      return { result: 'retry', type: d.type, send, nextAttemptAt };
    },

    async sweep(opts = {}) {
      const pageSize = opts.pageSize ?? 2_000;
      const queue = o.queues.webhookDeliver;
      const report: SweepReport = { scanned: 0, added: 0, replacedFailed: 0 };
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const rows = await prisma.$queryRaw<{ id: string; nextAttemptAt: Date | null }[]>`
          SELECT id::text AS id, next_attempt_at AS "nextAttemptAt" FROM webhook_deliveries
          WHERE state = 'PENDING'::"webhook_delivery_state" AND id > ${after}::uuid
          ORDER BY id LIMIT ${pageSize}`;
        if (rows.length === 0) break;
        const ids = rows.map((r) => jobIds.webhookDeliver(r.id));
        const states = await jobPresence(o.redis, queue, ids);
        const missing: string[] = [];
        const due = new Map<string, number>();
        for (const [i, row] of rows.entries()) {
          const state = states[i];
          if (state === 'present') continue;
          if (state === 'failed') {
            await queue.remove(jobIds.webhookDeliver(row.id));
            report.replacedFailed++;
          } else {
            report.added++;
          }
          missing.push(row.id);
          due.set(row.id, Math.max(0, (row.nextAttemptAt?.getTime() ?? 0) - now()));
        }
        await enqueueWebhookDeliveries(o.queues, missing, (id) => due.get(id) ?? 0);
        report.scanned += rows.length;
        after = rows[rows.length - 1]?.id ?? after;
        if (rows.length < pageSize) break;
      }
      if (report.added + report.replacedFailed > 0) {
        o.logger?.warn({ ...report }, 'webhook sweeper restored missing delivery jobs');
      }
      return report;
    },

    async redeliver(deliveryId) {
      const at = new Date(now());
      const [row] = await prisma.$queryRawUnsafe<WebhookDeliveryRow[]>(
        `WITH d AS (
           UPDATE webhook_deliveries SET state = 'PENDING', next_attempt_at = $2, last_error = NULL, updated_at = $2
           WHERE id = $1::uuid RETURNING *
         ), ungone AS (DELETE FROM webhook_endpoints_gone g USING d WHERE g.endpoint = d.endpoint)
         SELECT ${DELIVERY_COLUMNS} FROM d JOIN webhook_events e ON e.id = d.event_id`,
        deliveryId,
        at,
      );
      if (!row) return null;
      const jobId = jobIds.webhookDeliver(deliveryId);
      // A delayed (or failed) job is replaced so that the delivery runs now; a running one delivers anyway.
      await o.queues.webhookDeliver.remove(jobId).catch(() => 0);
      await enqueueWebhookDeliveries(o.queues, [deliveryId]);
      return row;
    },
  };
}
