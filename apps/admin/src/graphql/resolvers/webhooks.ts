import { isUuid } from '@ttc/accounts';
import { WEBHOOK_EVENT_TYPES } from '@ttc/webhooks';
import type { IResolvers } from 'mercurius';
import { adminError } from '../../errors.js';
import { decodeCursor, forwardPage, pageSize } from '../cursor.js';
import type { WebhookDeliveryFilter } from '../webhook-repository.js';
import { assertNoNul } from './query.js';

const TYPES: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

function checkFilter(filter: WebhookDeliveryFilter | null | undefined): WebhookDeliveryFilter {
  const f = filter ?? {};
  if (f.type != null && !TYPES.has(f.type)) {
    throw adminError('BAD_USER_INPUT', `type must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`, {
      argument: 'filter.type',
    });
  }
  if (f.endpoint != null && (f.endpoint.length === 0 || f.endpoint.length > 2048)) {
    throw adminError('BAD_USER_INPUT', 'endpoint must be 1 to 2048 characters', { argument: 'filter.endpoint' });
  }
  assertNoNul(f.endpoint, 'filter.endpoint');
  return f;
}

export const webhookQueryResolvers: IResolvers['Query'] = {
  async webhookDeliveries(
    _root,
    args: { filter?: WebhookDeliveryFilter | null; first?: number | null; after?: string | null },
    ctx,
  ) {
    const filter = checkFilter(args.filter);
    const limit = pageSize(args.first, 20, 100);
    const after = args.after ? decodeCursor('w', args.after) : undefined;
    const rows = await ctx.webhookLog.page(filter, limit + 1, after);
    return { ...forwardPage('w', rows, limit, after !== undefined), totalCount: () => ctx.webhookLog.count(filter) };
  },
};

export const webhookMutationResolvers: IResolvers['Mutation'] = {
  async redeliverWebhook(_root, args: { id: string }, ctx) {
    if (!isUuid(args.id)) {
      throw adminError('BAD_USER_INPUT', 'id must be a webhook delivery id (UUID)', { argument: 'id' });
    }
    let row: Awaited<ReturnType<typeof ctx.webhooks.redeliver>>;
    try {
      row = await ctx.webhooks.redeliver(args.id);
    } catch (error) {
      throw adminError(
        'QUEUE_UNAVAILABLE',
        'Could not enqueue the redelivery (Redis unreachable)',
        {},
        { cause: error },
      );
    }
    if (!row) throw adminError('WEBHOOK_DELIVERY_NOT_FOUND', 'Webhook delivery not found');
    return row;
  },
};

/** The log's `status` is the row's `state`. */
export const webhookDeliveryResolvers: IResolvers['WebhookDelivery'] = {
  status: (row: { state: string }) => row.state,
};
