import { randomUUID } from 'node:crypto';
import { jobIds } from '@ttc/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, seedAccounts, startTestAdmin, type TestAdmin } from './helpers.js';

const ENDPOINTS = ['https://hooks.example.test/a', 'https://hooks.example.test/b'];
let admin: TestAdmin;
const code = (res: { json(): { errors?: { extensions?: { code?: string } }[] } }) =>
  res.json().errors?.[0]?.extensions?.code;

const LOG = `query L($filter: WebhookDeliveryFilter, $first: Int, $after: String) {
  webhookDeliveries(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id eventId type endpoint status attempts lastStatus lastLatencyMs lastError nextAttemptAt
      deliveredAt createdAt } } } }`;
const REDELIVER = 'mutation R($id: ID!) { redeliverWebhook(id: $id) { id eventId status endpoint } }';

beforeAll(async () => {
  admin = await startTestAdmin({ webhookUrls: ENDPOINTS });
  await seedAccounts(admin.db.prisma, 4);
  const ids = await admin.db.prisma.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM social_accounts WHERE status = 'ACTIVE' ORDER BY open_id LIMIT 2`;
  for (const { id } of ids) {
    const res = await gql(admin.app, 'mutation D($id: ID!) { disconnectAccount(id: $id) { id } }', { id });
    expect(res.json().errors).toBeUndefined();
  }
});
afterAll(async () => admin?.close());

describe('webhookDeliveries', () => {
  it('lists the delivery log newest first, one row per event and endpoint, filtered and paged', async () => {
    const all = await gql(admin.app, LOG, {});
    const log = all.json().data.webhookDeliveries;
    expect(log.totalCount).toBe(4);
    expect(log.edges.map((e: { node: { endpoint: string } }) => e.node.endpoint).sort()).toEqual(
      [...ENDPOINTS, ...ENDPOINTS].sort(),
    );
    expect(log.edges[0].node).toMatchObject({
      type: 'account.disconnected',
      status: 'PENDING',
      attempts: 0,
      lastStatus: null,
      deliveredAt: null,
    });

    const onlyA = await gql(admin.app, LOG, { filter: { endpoint: ENDPOINTS[0], status: 'PENDING' } });
    expect(onlyA.json().data.webhookDeliveries.totalCount).toBe(2);
    const none = await gql(admin.app, LOG, { filter: { type: 'user.erased' } });
    expect(none.json().data.webhookDeliveries.totalCount).toBe(0);

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 4; page++) {
      const res = await gql(admin.app, LOG, { first: 1, after });
      const conn = res.json().data.webhookDeliveries;
      seen.push(conn.edges[0].node.id);
      after = conn.pageInfo.endCursor;
      expect(conn.pageInfo.hasNextPage).toBe(page < 3);
    }
    expect(new Set(seen).size).toBe(4);
    expect(seen).toEqual(log.edges.map((e: { node: { id: string } }) => e.node.id));
  });

  it('answers bad input with BAD_USER_INPUT', async () => {
    expect(code(await gql(admin.app, LOG, { filter: { type: 'account.exploded' } }))).toBe('BAD_USER_INPUT');
    expect(code(await gql(admin.app, LOG, { filter: { endpoint: 'x'.repeat(3000) } }))).toBe('BAD_USER_INPUT');
    expect(code(await gql(admin.app, LOG, { filter: { endpoint: 'a\u0000b' } }))).toBe('BAD_USER_INPUT');
    expect(code(await gql(admin.app, LOG, { first: 0 }))).toBe('BAD_USER_INPUT');
    expect(code(await gql(admin.app, LOG, { first: 101 }))).toBe('BAD_USER_INPUT');
    expect(code(await gql(admin.app, LOG, { after: 'not-a-cursor!' }))).toBe('BAD_USER_INPUT');
    const accountsPage = await gql(admin.app, '{ accounts(first: 1) { pageInfo { endCursor } } }');
    const accountCursor = accountsPage.json().data.accounts.pageInfo.endCursor;
    expect(code(await gql(admin.app, LOG, { after: accountCursor }))).toBe('BAD_USER_INPUT');
    expect(code(await gql(admin.app, LOG, { filter: { status: 'LOST' } }))).toBe('BAD_USER_INPUT');
  });
});

describe('redeliverWebhook', () => {
  it('puts the delivery back to PENDING with the same event (webhook-id) and enqueues its job', async () => {
    const [row] = await admin.db.prisma.webhookDelivery.findMany({ take: 1 });
    await admin.db.prisma.webhookDelivery.update({
      where: { id: row!.id },
      data: { state: 'DELIVERED', attempts: 1, lastStatus: 200, deliveredAt: new Date() },
    });
    await admin.queues.webhookDeliver.obliterate({ force: true });
    const res = await gql(admin.app, REDELIVER, { id: row!.id });
    expect(res.json().data.redeliverWebhook).toEqual({
      id: row!.id,
      eventId: row!.eventId,
      status: 'PENDING',
      endpoint: row!.endpoint,
    });
    const job = await admin.queues.webhookDeliver.getJob(jobIds.webhookDeliver(row!.id));
    expect(job?.data).toEqual({ deliveryId: row!.id });
  });

  it('re-enables an endpoint flagged gone', async () => {
    const [row] = await admin.db.prisma.webhookDelivery.findMany({ where: { endpoint: ENDPOINTS[1] }, take: 1 });
    await admin.db.prisma.webhookEndpointGone.create({ data: { endpoint: ENDPOINTS[1]!, deliveryId: row!.id } });
    await gql(admin.app, REDELIVER, { id: row!.id });
    expect(await admin.db.prisma.webhookEndpointGone.count()).toBe(0);
  });

  it('answers WEBHOOK_DELIVERY_NOT_FOUND for an unknown id and BAD_USER_INPUT for a malformed one', async () => {
    expect(code(await gql(admin.app, REDELIVER, { id: randomUUID() }))).toBe('WEBHOOK_DELIVERY_NOT_FOUND');
    expect(code(await gql(admin.app, REDELIVER, { id: 'nope' }))).toBe('BAD_USER_INPUT');
  });
});
