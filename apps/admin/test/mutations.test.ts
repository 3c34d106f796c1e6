import { jobIds, QueueNames } from '@ttc/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, gql, seedAccounts, startTestAdmin, type TestAdmin } from './helpers.js';

let admin: TestAdmin;
const idOf = async (openId: string) => {
  const [row] = await admin.db.prisma.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM social_accounts WHERE open_id = ${openId}`;
  return row!.id;
};
const code = (res: { json(): { errors?: { extensions?: { code?: string } }[] } }) =>
  res.json().errors?.[0]?.extensions?.code;

beforeAll(async () => {
  admin = await startTestAdmin();
  // open-2..9 ACTIVE, open-1 REAUTH_REQUIRED, open-10 DISCONNECTED
  await seedAccounts(admin.db.prisma, 20);
});
afterAll(async () => admin?.close());

const DISCONNECT = `mutation D($id: ID!) { disconnectAccount(id: $id, reason: "support ticket 42") {
  id status disconnectedAt events(first: 1) { edges { node { type data } } } } }`;
const REFRESH = 'mutation R($id: ID!) { refreshAccount(id: $id) { id status } }';

describe('disconnectAccount', () => {
  it('disconnects the account, wipes its tokens and records who did it', async () => {
    const id = await idOf('open-2');
    const res = await gql(admin.app, DISCONNECT, { id });
    expect(res.statusCode).toBe(200);
    const account = res.json().data.disconnectAccount;
    expect(account.status).toBe('DISCONNECTED');
    expect(account.disconnectedAt).not.toBeNull();
    expect(account.events.edges[0].node).toEqual({
      type: 'DISCONNECTED',
      data: { actor: 'admin', reason: 'support ticket 42' },
    });
    const [row] = await admin.db.prisma.$queryRaw<{ a: string | null; r: string | null }[]>`
      SELECT access_token_ciphertext AS a, refresh_token_ciphertext AS r FROM social_accounts WHERE id = ${id}::uuid`;
    expect(row).toEqual({ a: null, r: null });
    // The revoke at TikTok is queued, and the dashboard shows the job without its token ciphertext.
    expect((await admin.queues.accountRevoke.getJobCounts('waiting')).waiting).toBe(1);
    const dashboard = await admin.app.inject({
      method: 'GET',
      url: '/queues/api/queues?activeQueue=account.revoke&status=waiting&page=1',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain(id);
    expect(dashboard.body).toContain('[redacted]');
    expect(dashboard.body).not.toContain('secret-access');
  });

  it('is idempotent', async () => {
    const id = await idOf('open-2');
    const again = await gql(admin.app, DISCONNECT, { id });
    expect(again.json().data.disconnectAccount.status).toBe('DISCONNECTED');
    const [{ n }] = (await admin.db.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM account_events WHERE account_id = ${id}::uuid AND type = 'DISCONNECTED'`) as [
      { n: number },
    ];
    expect(n).toBe(1);
  });

  it('answers an unknown account with ACCOUNT_NOT_FOUND and a malformed id with BAD_USER_INPUT', async () => {
    const missing = await gql(admin.app, DISCONNECT, { id: '018f0000-0000-7000-8000-000000000000' });
    expect(missing.statusCode).toBe(200);
    expect(code(missing)).toBe('ACCOUNT_NOT_FOUND');
    expect(missing.json().errors[0].path).toEqual(['disconnectAccount']);
    expect(code(await gql(admin.app, DISCONNECT, { id: 'abc' }))).toBe('BAD_USER_INPUT');
  });
});

describe('refreshAccount', () => {
  it('enqueues a refresh job for the account now', async () => {
    const id = await idOf('open-3');
    const res = await gql(admin.app, REFRESH, { id });
    expect(res.json()).toEqual({ data: { refreshAccount: { id, status: 'ACTIVE' } } });
    const job = await admin.queues.tokenRefresh.getJob(jobIds.tokenRefresh(id));
    expect(job?.data).toEqual({ reason: 'manual' });
    expect(await job?.getState()).toBe('waiting');
  });

  it('brings a scheduled refresh forward instead of adding a second job', async () => {
    const id = await idOf('open-4');
    const jobId = jobIds.tokenRefresh(id);
    await admin.queues.tokenRefresh.add(
      QueueNames.tokenRefresh,
      { accountId: id, reason: 'scheduled' },
      { jobId, delay: 3_600_000 },
    );
    expect(await (await admin.queues.tokenRefresh.getJob(jobId))?.getState()).toBe('delayed');
    await gql(admin.app, REFRESH, { id });
    expect(await (await admin.queues.tokenRefresh.getJob(jobId))?.getState()).toBe('waiting');
    const counts = await admin.queues.tokenRefresh.getJobCounts('waiting', 'delayed');
    expect(counts.delayed).toBe(0);
  });

  it('refuses a disconnected, a re-auth-required and an unknown account with typed errors', async () => {
    expect(code(await gql(admin.app, REFRESH, { id: await idOf('open-10') }))).toBe('ACCOUNT_DISCONNECTED');
    expect(code(await gql(admin.app, REFRESH, { id: await idOf('open-1') }))).toBe('ACCOUNT_REAUTH_REQUIRED');
    expect(code(await gql(admin.app, REFRESH, { id: '018f0000-0000-7000-8000-000000000000' }))).toBe(
      'ACCOUNT_NOT_FOUND',
    );
  });
});

describe('queues', () => {
  it('reports job counts per queue', async () => {
    const res = await gql(admin.app, '{ queues { name paused waiting active delayed failed completed } }');
    const queues = res.json().data.queues as { name: string; waiting: number }[];
    expect(queues.map((q) => q.name).sort()).toEqual(Object.values(QueueNames).sort());
    const refresh = queues.find((q) => q.name === QueueNames.tokenRefresh);
    expect(refresh?.waiting).toBeGreaterThanOrEqual(2);
  });
});
