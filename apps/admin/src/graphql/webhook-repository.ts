import { Prisma, type PrismaClient } from '@ttc/db';
import { DELIVERY_COLUMNS, type WebhookDeliveryRow } from '@ttc/webhooks';
import type { KeysetPosition } from './cursor.js';

export type WebhookDeliveryState = WebhookDeliveryRow['state'];
export const WEBHOOK_DELIVERY_STATES: readonly WebhookDeliveryState[] = [
  'PENDING',
  'DELIVERED',
  'FAILED',
  'ENDPOINT_GONE',
];

export interface WebhookDeliveryFilter {
  status?: WebhookDeliveryState | null;
  type?: string | null;
  endpoint?: string | null;
}

function whereClause(filter: WebhookDeliveryFilter, after?: KeysetPosition): Prisma.Sql {
  const conditions: Prisma.Sql[] = [];
  if (filter.status != null) conditions.push(Prisma.sql`d.state = ${filter.status}::"webhook_delivery_state"`);
  if (filter.type != null) conditions.push(Prisma.sql`e.type = ${filter.type}`);
  if (filter.endpoint != null) conditions.push(Prisma.sql`d.endpoint = ${filter.endpoint}`);
  if (after) {
    conditions.push(Prisma.sql`(d.created_at, d.id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
  }
  return conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
}

/** Reads the webhook delivery log (event × endpoint), newest first, with keyset pagination. Holds no secret. */
export class WebhookDeliveriesRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** `limit` rows in `(createdAt desc, id desc)` order after `after`; ask for one more to learn hasNextPage. */
  page(filter: WebhookDeliveryFilter, limit: number, after?: KeysetPosition): Promise<WebhookDeliveryRow[]> {
    return this.prisma.$queryRaw<WebhookDeliveryRow[]>`
      SELECT ${Prisma.raw(DELIVERY_COLUMNS)}
      FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id ${whereClause(filter, after)}
      ORDER BY d.created_at DESC, d.id DESC LIMIT ${limit}`;
  }

  async count(filter: WebhookDeliveryFilter): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n
      FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id ${whereClause(filter)}`;
    return row?.n ?? 0;
  }
}
