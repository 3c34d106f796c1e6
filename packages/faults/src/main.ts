// `pnpm test:faults`: the product's real processes (sandbox, admin, gateway, two workers) against a private Redis and
// a private PostgreSQL cluster started here on free ports, through kills, restarts, a FLUSHALL and a TikTok outage.
// Prints a progress line per scenario and every check with what it measured; exits 1 when a check failed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateDatabase } from '@ttc/db';
import { createQueues, createRedisConnection, jobIds, jobPresence, type Queues, type RedisClient } from '@ttc/queue';
import {
  ConnectFlowError,
  connectOverHttp,
  HttpBrowser,
  type HttpExchange,
  type PrivateServer,
  startPrivatePostgres,
  startPrivateRedis,
} from '@ttc/testing';
import pg from 'pg';
import { type AppName, Stack } from './services.js';

const RECONCILE_INTERVAL_SECONDS = 10;
const SHUTDOWN_TIMEOUT_MS = 5_000;
const CONNECT_OUTCOME_WAIT_MS = 2_000;
const QUEUE_PREFIX = 'faults';
const RETURN_TO = 'http://localhost:5173/settings';
const OPEN_IDS = ['ava', 'ben', 'chloe', 'dev', 'emi', 'zoe'].map((s) => `sbx-open-${s}`);
const WORKERS: AppName[] = ['worker-1', 'worker-2'];

const started = Date.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`;
const random = (min: number, max: number) => min + Math.random() * (max - min);
function log(line: string): void {
  console.log(`[faults ${elapsed()}] ${line}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Bookkeeping: checks, counts, and every HTTP answer the simulated users and operators got.

interface Check {
  scenario: string;
  name: string;
  ok: boolean;
  detail: string;
}
const checks: Check[] = [];
const counts = { kills: 0, restarts: 0, sigterms: 0, connections: 0, retries: 0, requests: 0 };
let scenario = '';

function check(name: string, ok: boolean, detail: string): boolean {
  checks.push({ scenario, name, ok, detail });
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  return ok;
}

class Traffic {
  readonly byStatus = new Map<number, number>();
  readonly serverErrors: string[] = [];
  readonly record = (e: HttpExchange) => {
    counts.requests++;
    this.byStatus.set(e.status, (this.byStatus.get(e.status) ?? 0) + 1);
    if (e.status >= 500 && e.status !== 503)
      this.serverErrors.push(`${e.status} ${e.method} ${new URL(e.url).pathname}`);
  };
  summary(): string {
    return [...this.byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
  }
  count(predicate: (status: number) => boolean): number {
    let n = 0;
    for (const [status, c] of this.byStatus) if (predicate(status)) n += c;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Services.

const dir = mkdtempSync(join(tmpdir(), 'ttc-faults-'));
let redis: PrivateServer | undefined;
let postgres: PrivateServer | undefined;
let stack: Stack | undefined;
let receiver: Server | undefined;
let db: pg.Pool;
let harnessRedis: RedisClient;
let queues: Queues;
/** Webhook deliveries the receiver got: event id → how many times. */
const received = new Map<string, number>();

function requireStack(): Stack {
  if (!stack) throw new Error('stack not started');
  return stack;
}

async function startReceiver(): Promise<string> {
  receiver = createServer((req, res) => {
    const id = req.headers['webhook-id'];
    req.resume();
    // A receiver that takes its time (200–600 ms), as real ones do: deliveries are in flight when a worker is killed.
    req.on('end', () => {
      setTimeout(
        () => {
          if (typeof id === 'string') received.set(id, (received.get(id) ?? 0) + 1);
          res.writeHead(204).end();
        },
        random(200, 600),
      );
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
}

async function setUp(): Promise<void> {
  scenario = 'setup';
  log('setup: private Redis and PostgreSQL on free ports, then sandbox, gateway, admin and two workers');
  [redis, postgres] = await Promise.all([
    startPrivateRedis({ persistent: true }),
    startPrivatePostgres({ maxConnections: 300 }),
  ]);
  const databaseUrl = postgres.url.replace(/\/postgres$/, '/tiktok_faults');
  await migrateDatabase(databaseUrl, { createDatabase: true });
  db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  db.on('error', () => undefined);
  harnessRedis = createRedisConnection(redis.url, 'producer', 'faults-harness');
  harnessRedis.on('error', () => undefined);
  queues = createQueues({ connection: harnessRedis, prefix: QUEUE_PREFIX });
  // Redis restarts are expected here: the queue handles reconnect, their errors are not news.
  for (const queue of queues.all()) queue.on('error', () => undefined);
  const webhookUrl = await startReceiver();
  stack = await Stack.create({
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    QUEUE_PREFIX,
    DEV_SECRETS_FILE: join(dir, 'secrets.json'),
    TRUST_PROXY: 'true',
    CONNECT_OUTCOME_WAIT_MS: String(CONNECT_OUTCOME_WAIT_MS),
    RECONCILE_INTERVAL_SECONDS: String(RECONCILE_INTERVAL_SECONDS),
    REFRESH_LEAD_SECONDS: '5',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    WEBHOOK_URLS: webhookUrl,
    WEBHOOK_SECRETS: `whsec_${randomBytes(32).toString('base64')}`,
  });
  const s = stack;
  await s.start('sandbox');
  await s.start('gateway'); // generates the development secrets the others then read
  await Promise.all([s.start('admin'), s.start('worker-1'), s.start('worker-2')]);
  log(
    `setup: redis :${redis.port}, postgres :${postgres.port}, gateway :${s.ports.gateway}, admin :${s.ports.admin}, sandbox :${s.ports.sandbox}`,
  );
}

async function tearDown(): Promise<void> {
  await stack?.stopAll().catch(() => undefined);
  await queues?.close().catch(() => undefined);
  harnessRedis?.disconnect();
  await db?.end().catch(() => undefined);
  receiver?.close();
  await redis?.destroy().catch(() => undefined);
  await postgres?.destroy().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Load: simulated users connecting accounts, the upstream app asking for tokens, operators using the admin API.

interface Attempt {
  userId: string;
  openId: string;
  /** The callback enqueued it: it must end as an account (unless the page told the user it failed). */
  enqueued?: { sessionId: string; resultId: string };
  /** The result page said it failed (the user is asked to try again). */
  toldFailed?: boolean;
  /** When the callback answered (the connection job was enqueued then). */
  callbackAt?: number;
  error?: string;
}

/** A stable client address per user, so the gateway's per-client rate limits see many users, as in production. */
function addressOf(userId: string): string {
  const h = [...userId].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7);
  return `10.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${h & 255}`;
}

/** One user connecting one account; tries again (new session) when a step before the callback fails, like a user. */
async function connect(traffic: Traffic, userId: string, openId: string, deadline: number): Promise<Attempt> {
  const s = requireStack();
  const attempt: Attempt = { userId, openId };
  counts.connections++;
  for (;;) {
    const onExchange = (e: HttpExchange) => {
      traffic.record(e);
      if (e.status === 303 && e.url.endsWith('/auth/tiktok/callback')) attempt.callbackAt = Date.now();
    };
    const browser = new HttpBrowser({ forwardedFor: addressOf(userId), onExchange, timeoutMs: 20_000 });
    try {
      const result = await connectOverHttp({
        gatewayUrl: s.gatewayUrl,
        apiKey: s.secrets().gatewayApiKey,
        userId,
        openId,
        returnTo: RETURN_TO,
        browser,
        settle: false,
      });
      attempt.enqueued = { sessionId: result.sessionId, resultId: result.resultId };
      if (result.failed) attempt.toldFailed = true;
      if (!result.failed) return attempt;
    } catch (error) {
      if (error instanceof ConnectFlowError && error.enqueued) {
        attempt.enqueued = error.enqueued;
        attempt.error = error.message;
        return attempt;
      }
      attempt.error = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) return attempt;
    counts.retries++;
    await sleep(random(300, 1_000));
  }
}

async function pool<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i] as T);
      }
    }),
  );
  return results;
}

/** Background traffic until `stop()`: token requests for existing accounts, admin queries, connect page loads. */
function backgroundLoad(traffic: Traffic, stop: () => boolean): Promise<void> {
  const s = requireStack();
  const browser = new HttpBrowser({ onExchange: traffic.record, timeoutMs: 20_000 });
  const loop = async (fn: () => Promise<unknown>) => {
    while (!stop()) {
      await fn().catch(() => undefined);
      await sleep(100);
    }
  };
  const token = async () => {
    const { rows } = await db.query<{ id: string }>(
      "SELECT id::text FROM social_accounts WHERE status = 'ACTIVE' ORDER BY random() LIMIT 1",
    );
    const id = rows[0]?.id;
    if (!id) return;
    await browser.request(`${s.gatewayUrl}/v1/accounts/${id}/access-token`, {
      headers: { authorization: `Bearer ${s.secrets().gatewayApiKey}` },
    });
  };
  const admin = () =>
    browser.request(`${s.adminUrl}/graphql`, {
      json: { query: '{ accounts(first: 5) { edges { node { id status } } } queues { name } }' },
      headers: { authorization: `Bearer ${s.secrets().adminApiToken}` },
    });
  const session = () =>
    browser.request(`${s.gatewayUrl}/v1/connect-sessions`, {
      json: { userId: 'background-user', returnTo: RETURN_TO },
      headers: { authorization: `Bearer ${s.secrets().gatewayApiKey}` },
    });
  return Promise.all([loop(token), loop(token), loop(admin), loop(session)]).then(() => undefined);
}

// ---------------------------------------------------------------------------------------------------------------
// What the checks read.

async function jobCounts(): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const queue of queues.all()) {
    out[queue.name] = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
  }
  return out;
}

/** Until no connection job is waiting, active or delayed (a killed worker's job is active until the stall check). */
async function drainConnections(timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const c = await queues.accountConnected
      .getJobCounts('waiting', 'active', 'delayed', 'prioritized')
      .catch(() => null);
    if (c && Object.values(c).every((n) => n === 0)) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) return -1;
    await sleep(250);
  }
}

async function accountExists(userId: string, openId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM social_accounts WHERE user_id = $1 AND open_id = $2', [
    userId,
    openId,
  ]);
  return (rowCount ?? 0) > 0;
}

/** Attempts the callback enqueued (and did not report as failed) that are not accounts. */
async function missingAccounts(attempts: Attempt[]): Promise<Attempt[]> {
  const missing: Attempt[] = [];
  for (const a of attempts) {
    if (a.enqueued && !a.toldFailed && !(await accountExists(a.userId, a.openId))) missing.push(a);
  }
  return missing;
}

async function activeAccountIds(): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>("SELECT id::text FROM social_accounts WHERE status = 'ACTIVE'");
  return rows.map((r) => r.id);
}

/** Active accounts whose refresh job is missing or failed. */
async function refreshJobsMissing(): Promise<number> {
  const ids = await activeAccountIds();
  let missing = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const page = ids.slice(i, i + 500).map(jobIds.tokenRefresh);
    missing += (await jobPresence(harnessRedis, queues.tokenRefresh, page)).filter((p) => p !== 'present').length;
  }
  return missing;
}

async function sandboxCalls(endpoint: string): Promise<{ refreshTokenReused?: boolean; status: number; at: string }[]> {
  const res = await fetch(`${requireStack().sandboxUrl}/__sandbox/calls?endpoint=${endpoint}`);
  return ((await res.json()) as { calls: { refreshTokenReused?: boolean; status: number; at: string }[] }).calls;
}

async function sandbox(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${requireStack().sandboxUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
}

async function reusedRefreshTokens(): Promise<number> {
  return (await sandboxCalls('refresh')).filter((c) => c.refreshTokenReused).length;
}

async function webhookReport(timeoutMs: number): Promise<{ events: number; undelivered: number; duplicates: number }> {
  const t0 = Date.now();
  for (;;) {
    const { rows } = await db.query<{ id: string }>('SELECT id::text FROM webhook_events');
    const undelivered = rows.filter((r) => !received.has(r.id)).length;
    if (undelivered === 0 || Date.now() - t0 > timeoutMs) {
      let duplicates = 0;
      for (const n of received.values()) if (n > 1) duplicates += n - 1;
      return { events: rows.length, undelivered, duplicates };
    }
    await sleep(500);
  }
}

async function queuesQuiet(): Promise<{ active: number; failed: number; detail: string }> {
  const c = await jobCounts();
  let active = 0;
  let failed = 0;
  for (const q of Object.values(c)) {
    active += q.active ?? 0;
    failed += q.failed ?? 0;
  }
  let detail = Object.entries(c)
    .map(([name, q]) => `${name} active ${q.active} failed ${q.failed}`)
    .join(', ');
  // Why jobs failed, by reason (what an operator would look up first).
  const reasons = new Map<string, number>();
  for (const queue of queues.all()) {
    for (const job of await queue.getFailed(0, 99)) {
      const reason = `${queue.name}: ${job.failedReason}`;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  if (reasons.size > 0) detail += `; failed reasons: ${[...reasons].map(([r, n]) => `${n}× ${r}`).join('; ')}`;
  return { active, failed, detail };
}

// ---------------------------------------------------------------------------------------------------------------
// Kills.

/** SIGKILLs a running worker at random moments and restarts it at once: at least `min` kills, at most `max`. */
/**
 * Jobs still active a second after a kill are the killed worker's (the others take milliseconds): how long until each
 * of them is done (completed jobs are removed) or failed, i.e. until the stall check gave it to another worker and
 * that one finished it. Resolves with the longest, or null when the kill hit no job.
 */
async function trackStalledJobs(killedAt: number): Promise<{ jobs: number; ms: number } | null> {
  await sleep(1_000);
  const held = [...(await queues.accountConnected.getActive()), ...(await queues.webhookDeliver.getActive())];
  if (held.length === 0) return null;
  for (;;) {
    const states = await Promise.all(held.map((job) => job.getState().catch(() => 'unknown')));
    if (states.every((state) => state !== 'active' && state !== 'waiting' && state !== 'delayed')) {
      return { jobs: held.length, ms: Date.now() - killedAt };
    }
    if (Date.now() - killedAt > 180_000) return { jobs: held.length, ms: Number.POSITIVE_INFINITY };
    await sleep(250);
  }
}

/** Per kill that hit jobs: how many it held and how long until they were all done elsewhere. */
const recoveries: Promise<{ jobs: number; ms: number } | null>[] = [];

async function killWorkersAtRandom(stop: () => boolean, min: number, max: number): Promise<void> {
  const s = requireStack();
  const starting = new Set<AppName>();
  const restarts: Promise<unknown>[] = [];
  let kills = 0;
  // A few seconds apart, as crashes are: faster than the restarts would kill every worker before it did any work.
  while ((!stop() && kills < max) || kills < min) {
    await sleep(random(4_000, 8_000));
    const candidates = WORKERS.filter((w) => !starting.has(w));
    const victim = candidates[Math.floor(Math.random() * candidates.length)];
    if (!victim) continue;
    await s.kill(victim);
    recoveries.push(trackStalledJobs(Date.now()));
    kills++;
    counts.kills++;
    log(`  SIGKILL ${victim} (kill ${kills})`);
    starting.add(victim);
    restarts.push(
      s.start(victim).then(() => {
        counts.restarts++;
        starting.delete(victim);
      }),
    );
  }
  await Promise.all(restarts);
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios.

async function killsDuringConnections(): Promise<void> {
  scenario = 'worker kills';
  log('scenario 1/6: 300 connections (50 users × 6 TikTok accounts) + 10 % repeats, workers SIGKILLed at random');
  const traffic = new Traffic();
  const firsts = Array.from({ length: 300 }, (_, i) => ({
    userId: `f1-u${Math.floor(i / 6)}`,
    openId: OPEN_IDS[i % 6] as string,
  })).sort(() => Math.random() - 0.5);
  // Each repeat comes well after its first connection (a user connecting the same account again later).
  const plan = [...firsts];
  for (let r = 0; r < 30; r++) {
    const original = Math.floor(Math.random() * 250);
    const at = Math.min(plan.length, original + 40 + Math.floor(Math.random() * 40));
    plan.splice(at, 0, { ...(firsts[original] as { userId: string; openId: string }) });
  }
  let done = false;
  const killer = killWorkersAtRandom(() => done, 3, 8);
  const deadline = Date.now() + 180_000;
  const t0 = Date.now();
  const attempts = await pool(plan, 6, (p) => connect(traffic, p.userId, p.openId, deadline));
  done = true;
  log(
    `  ${attempts.length} connection flows in ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for the kills and the queue`,
  );
  await killer;
  const drainMs = await drainConnections(150_000);
  check(
    'connection queue drained after the kills',
    drainMs >= 0,
    drainMs >= 0 ? `${drainMs} ms after the last flow` : 'not within 150 s',
  );

  const { rows } = await db.query<{ n: string; distinct: string }>(
    "SELECT count(*) AS n, count(DISTINCT (user_id, open_id)) AS distinct FROM social_accounts WHERE user_id LIKE 'f1-%'",
  );
  const n = Number(rows[0]?.n);
  const distinct = Number(rows[0]?.distinct);
  check(
    'exact accounts',
    n === 300,
    `${n} accounts for 300 distinct (user, TikTok account) pairs, ${plan.length} flows`,
  );
  check('0 duplicates', n === distinct, `${n - distinct} duplicate rows`);
  const enqueued = attempts.filter((a) => a.enqueued).length;
  const missing = await missingAccounts(attempts);
  check(
    'every enqueued connection is an account',
    missing.length === 0,
    `${enqueued} enqueued, ${missing.length} missing, ${attempts.filter((a) => !a.enqueued).length} never reached the callback${missing[0] ? ` (e.g. ${missing[0].userId}/${missing[0].openId}: ${missing[0].error ?? ''})` : ''}`,
  );
  const hits = (await Promise.all(recoveries)).filter((r): r is { jobs: number; ms: number } => r !== null);
  const slowest = Math.max(0, ...hits.map((r) => r.ms));
  check(
    "a killed worker's job is picked up again within 35 s",
    hits.every((r) => r.ms <= 35_000),
    hits.length === 0
      ? `no kill caught a job in flight (${counts.kills} kills)`
      : `${hits.length} of ${counts.kills} kills caught ${hits.reduce((a, r) => a + r.jobs, 0)} jobs in flight; done elsewhere ${hits.map((r) => `${(r.ms / 1000).toFixed(1)} s`).join(', ')} after the kill (slowest ${(slowest / 1000).toFixed(1)} s)`,
  );
  const jobsMissing = await refreshJobsMissing();
  const refreshCounts = await queues.tokenRefresh.getJobCounts('delayed', 'waiting', 'active', 'prioritized', 'failed');
  const refreshJobs = Object.values(refreshCounts).reduce((a, b) => a + b, 0);
  const active = (await activeAccountIds()).length;
  check(
    'one refresh job each',
    jobsMissing === 0 && refreshJobs === active,
    `${active} active accounts, ${refreshJobs} refresh jobs, ${jobsMissing} accounts without one`,
  );
  const quiet = await queuesQuiet();
  check('nothing left active or failed', quiet.active === 0 && quiet.failed === 0, quiet.detail);
  check(
    'kills',
    counts.kills >= 3,
    `${counts.kills} SIGKILLs, ${counts.restarts} restarts, ${counts.retries} user retries`,
  );
  check(
    'no 500',
    traffic.serverErrors.length === 0,
    `${traffic.summary()}${traffic.serverErrors.length ? `; ${traffic.serverErrors.slice(0, 5).join(', ')}` : ''}`,
  );
}

async function webhooksSurviveKills(): Promise<void> {
  scenario = 'webhooks';
  log('scenario 2/6: webhook deliveries across those kills, to a local receiver');
  const report = await webhookReport(60_000);
  check(
    'every event delivered at least once',
    report.events > 0 && report.undelivered === 0,
    `${report.events} events, ${report.undelivered} never received, ${report.duplicates} duplicate deliveries (at least once allows them)`,
  );
}

async function flushAllUnderLoad(): Promise<void> {
  scenario = 'FLUSHALL';
  log(`scenario 3/6: FLUSHALL of Redis under load; reconcile interval ${RECONCILE_INTERVAL_SECONDS} s`);
  const traffic = new Traffic();
  let stop = false;
  const deadline = Date.now() + 60_000;
  const users = Array.from({ length: 60 }, (_, i) => ({
    userId: `f2-u${Math.floor(i / 6)}`,
    openId: OPEN_IDS[i % 6] as string,
  }));
  const load = Promise.all([
    backgroundLoad(traffic, () => stop),
    pool(users, 2, (u) => (stop ? Promise.resolve(null) : connect(traffic, u.userId, u.openId, deadline))),
  ]);
  await sleep(3_000);
  const before = (await activeAccountIds()).length;
  await harnessRedis.flushall();
  const t0 = Date.now();
  let restoredMs = -1;
  while (Date.now() - t0 < 3 * RECONCILE_INTERVAL_SECONDS * 1000) {
    if ((await refreshJobsMissing().catch(() => Number.POSITIVE_INFINITY)) === 0) {
      restoredMs = Date.now() - t0;
      break;
    }
    await sleep(250);
  }
  stop = true;
  await load;
  const bound = RECONCILE_INTERVAL_SECONDS * 1000 + 2_000;
  check(
    'every schedule back within one reconcile interval',
    restoredMs >= 0 && restoredMs <= bound,
    restoredMs >= 0
      ? `${before} refresh jobs restored ${restoredMs} ms after FLUSHALL (bound ${bound} ms)`
      : 'not within 3 intervals',
  );
  const report = await webhookReport(30_000);
  check(
    'webhook deliveries restored too',
    report.undelivered === 0,
    `${report.events} events, ${report.undelivered} never received`,
  );
  check(
    'no 500',
    traffic.serverErrors.length === 0,
    `${traffic.summary()}${traffic.serverErrors.length ? `; ${traffic.serverErrors.slice(0, 5).join(', ')}` : ''}`,
  );
}

async function restartsUnderLoad(): Promise<void> {
  scenario = 'restarts';
  log('scenario 4/6: PostgreSQL restart (down 3 s) and Redis restart (down 3 s) under load');
  const s = requireStack();
  const traffic = new Traffic();
  let stop = false;
  const deadline = Date.now() + 90_000;
  const users = Array.from({ length: 120 }, (_, i) => ({
    userId: `f3-u${Math.floor(i / 6)}`,
    openId: OPEN_IDS[i % 6] as string,
  }));
  let attempts: (Attempt | null)[] = [];
  const load = Promise.all([
    backgroundLoad(traffic, () => stop),
    pool(users, 3, (u) => (stop ? Promise.resolve(null) : connect(traffic, u.userId, u.openId, deadline))).then((a) => {
      attempts = a;
    }),
  ]);
  await sleep(3_000);
  let t = Date.now();
  await postgres?.stop();
  await sleep(3_000);
  await postgres?.start();
  log(`  PostgreSQL down and up again in ${Date.now() - t} ms`);
  await sleep(4_000);
  t = Date.now();
  await redis?.stop();
  await sleep(3_000);
  await redis?.start();
  log(`  Redis down and up again in ${Date.now() - t} ms`);
  await sleep(5_000);
  stop = true;
  await load;
  const done = attempts.filter((a): a is Attempt => a !== null);
  const drainMs = await drainConnections(120_000);
  check('connection queue drained', drainMs >= 0, drainMs >= 0 ? `${drainMs} ms after the load` : 'not within 120 s');
  const missing = await missingAccounts(done);
  const enqueued = done.filter((a) => a.enqueued && !a.toldFailed).length;
  check(
    'every connection that reached TikTok ends as an account',
    missing.length === 0,
    `${done.length} users, ${enqueued} enqueued by the callback, ${missing.length} missing, ${done.filter((a) => a.toldFailed).length} told to try again, ${done.filter((a) => !a.enqueued).length} never got through`,
  );
  check(
    'no 500 anywhere (503 allowed)',
    traffic.serverErrors.length === 0,
    `${traffic.summary()}${traffic.serverErrors.length ? `; e.g. ${[...new Set(traffic.serverErrors)].slice(0, 6).join(', ')}` : ''}`,
  );
  const crashed = [...s.processes.entries()].filter(([, p]) => p.exit()).map(([name]) => name);
  check(
    'no process died',
    crashed.length === 0,
    crashed.length ? `exited: ${crashed.join(', ')}` : 'all five still running',
  );
  for (const name of crashed) await s.start(name);
}

async function tiktokOutage(): Promise<void> {
  scenario = 'TikTok outage';
  log('scenario 5/6: 15-second access tokens, then TikTok answers 5xx and 429 for 30 s while their refreshes are due');
  const traffic = new Traffic();
  await sandbox('PUT', '/__sandbox/lifetimes', { accessTokenTtlSeconds: 15 });
  const users = Array.from({ length: 24 }, (_, i) => ({
    userId: `f4-u${Math.floor(i / 6)}`,
    openId: OPEN_IDS[i % 6] as string,
  }));
  const deadline = Date.now() + 60_000;
  await pool(users, 4, (u) => connect(traffic, u.userId, u.openId, deadline));
  await drainConnections(60_000);
  const { rows: batch } = await db.query<{ id: string }>(
    "SELECT id::text FROM social_accounts WHERE user_id LIKE 'f4-%'",
  );
  const ids = batch.map((r) => r.id);
  // Accounts in use: their app asks for their access tokens. Under the refresh policy (REFRESH_ACTIVE_WINDOW_HOURS)
  // only those are refreshed ahead of expiry; an account nobody asks for is only kept alive, and would have no
  // refresh due during the outage at all.
  const s = requireStack();
  const browser = new HttpBrowser({ onExchange: traffic.record, timeoutMs: 20_000 });
  await pool(ids, 4, async (id) => {
    const answer = await browser.request(`${s.gatewayUrl}/v1/accounts/${id}/access-token`, {
      headers: { authorization: `Bearer ${s.secrets().gatewayApiKey}` },
    });
    if (answer.status !== 200) throw new Error(`access token of ${id}: HTTP ${answer.status}`);
  });
  const callsBefore = (await sandboxCalls('refresh')).length;
  await sandbox('POST', '/__sandbox/failures', { endpoint: 'refresh', kind: 'http_503', times: 'Infinity' });
  await sleep(15_000);
  await sandbox('DELETE', '/__sandbox/failures');
  await sandbox('POST', '/__sandbox/failures', { endpoint: 'refresh', kind: 'rate_limit', times: 'Infinity' });
  await sleep(15_000);
  await sandbox('DELETE', '/__sandbox/failures');
  const end = Date.now();
  const during = (await sandboxCalls('refresh')).length - callsBefore;
  let freshMs = -1;
  let stale = ids.length;
  while (Date.now() - end < 45_000) {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM social_accounts WHERE id = ANY($1::uuid[])
         AND NOT (status = 'ACTIVE' AND last_refreshed_at >= $2 AND access_token_expires_at > now())`,
      [ids, new Date(end)],
    );
    stale = Number(rows[0]?.n);
    if (stale === 0) {
      freshMs = Date.now() - end;
      break;
    }
    await sleep(250);
  }
  const { rows: reauth } = await db.query<{ n: string }>(
    "SELECT count(*) AS n FROM social_accounts WHERE status = 'REAUTH_REQUIRED'",
  );
  check(
    '0 accounts REAUTH_REQUIRED',
    Number(reauth[0]?.n) === 0,
    `${reauth[0]?.n} of ${(await activeAccountIds()).length + Number(reauth[0]?.n)}`,
  );
  check(
    '0 refresh tokens presented twice',
    (await reusedRefreshTokens()) === 0,
    `${await reusedRefreshTokens()} reuses the sandbox saw in ${(await sandboxCalls('refresh')).length} refresh calls`,
  );
  check(
    'all fresh within 30 s of the end',
    freshMs >= 0 && freshMs <= 30_000,
    freshMs >= 0
      ? `${ids.length} accounts refreshed ${freshMs} ms after TikTok recovered (${during} refresh calls refused during the outage)`
      : `${stale} of ${ids.length} still stale 45 s after the end`,
  );
  await sandbox('PUT', '/__sandbox/lifetimes', { accessTokenTtlSeconds: 86_400 });
}

async function sigtermWithRowLocks(): Promise<void> {
  scenario = 'SIGTERM';
  log(
    `scenario 6/6: SIGTERM while two connection jobs wait on a row lock (SHUTDOWN_TIMEOUT_MS ${SHUTDOWN_TIMEOUT_MS})`,
  );
  const s = requireStack();
  const traffic = new Traffic();
  // Only worker-1 takes jobs while the rows are locked.
  const idle = await s.processes.get('worker-2')?.stop('SIGTERM', SHUTDOWN_TIMEOUT_MS + 10_000);
  counts.sigterms++;
  log(`  worker-2 (idle) stopped on SIGTERM in ${idle?.ms ?? '?'} ms, code ${idle?.code}`);
  const { rows: targets } = await db.query<{ id: string; user_id: string; open_id: string }>(
    "SELECT id::text, user_id, open_id FROM social_accounts WHERE user_id LIKE 'f1-%' AND status = 'ACTIVE' ORDER BY random() LIMIT 2",
  );
  const locker = await db.connect();
  let exit: { ms: number; code: number | null } | undefined;
  const since = new Date();
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM social_accounts WHERE id = ANY($1::uuid[]) FOR UPDATE', [
      targets.map((t) => t.id),
    ]);
    const deadline = Date.now() + 30_000;
    await Promise.all(targets.map((t) => connect(traffic, t.user_id, t.open_id, deadline)));
    const waitStart = Date.now();
    for (;;) {
      const { rows } = await db.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
      );
      if (Number(rows[0]?.n) >= targets.length || Date.now() - waitStart > 20_000) break;
      await sleep(100);
    }
    const t0 = Date.now();
    exit = await s.processes.get('worker-1')?.stop('SIGTERM', SHUTDOWN_TIMEOUT_MS + 30_000);
    counts.sigterms++;
    if (!exit) await s.kill('worker-1');
    const bound = SHUTDOWN_TIMEOUT_MS + 2_000;
    check(
      'exit within SHUTDOWN_TIMEOUT_MS + 2 s',
      exit !== undefined && exit.ms <= bound,
      exit
        ? `exited in ${exit.ms} ms with code ${exit.code} (bound ${bound} ms)`
        : `still running ${Date.now() - t0} ms after SIGTERM (killed)`,
    );
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined);
    locker.release();
  }
  await Promise.all([s.start('worker-1'), s.start('worker-2')]);
  counts.restarts += 2;
  const drainMs = await drainConnections(120_000);
  check(
    'jobs returned and processed',
    drainMs >= 0,
    drainMs >= 0 ? `queue empty ${drainMs} ms after the restart` : 'not within 120 s',
  );
  await sleep(2_000);
  const { rows: events } = await db.query<{ account_id: string; n: string }>(
    "SELECT account_id::text, count(*) AS n FROM account_events WHERE type = 'RECONNECTED' AND created_at >= $1 AND account_id = ANY($2::uuid[]) GROUP BY account_id",
    [since, targets.map((t) => t.id)],
  );
  const applied = targets.map((t) => Number(events.find((e) => e.account_id === t.id)?.n ?? 0));
  check(
    'applied once',
    applied.every((n) => n === 1),
    `RECONNECTED events per account: ${applied.join(', ')}`,
  );
  const quiet = await queuesQuiet();
  check('nothing left active or failed', quiet.active === 0 && quiet.failed === 0, quiet.detail);
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  let failedToRun: unknown;
  try {
    await setUp();
    await killsDuringConnections();
    await webhooksSurviveKills();
    await flushAllUnderLoad();
    await restartsUnderLoad();
    await tiktokOutage();
    await sigtermWithRowLocks();
    scenario = 'end';
    const report = await webhookReport(30_000);
    check(
      'every webhook event of the run delivered at least once',
      report.undelivered === 0,
      `${report.events} events, ${report.undelivered} never received`,
    );
  } catch (error) {
    failedToRun = error;
    console.error(`\n[faults] stopped in "${scenario}": ${error instanceof Error ? error.stack : String(error)}`);
  }
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0 || failedToRun) {
    console.error(`\n[faults] process output (last lines):\n${stack?.tails() ?? '(none)'}`);
  }
  await tearDown();
  console.log(
    `\n[faults] ${elapsed().trim()}: ${counts.kills} SIGKILLs, ${counts.sigterms} SIGTERMs, ${counts.restarts} restarts, ` +
      `${counts.connections} connection flows (${counts.retries} retries), ${counts.requests} HTTP requests; ` +
      `${checks.length - failed.length} checks passed, ${failed.length} failed`,
  );
  for (const c of failed) console.log(`[faults] FAILED ${c.scenario} / ${c.name}: ${c.detail}`);
  process.exitCode = failed.length > 0 || failedToRun ? 1 : 0;
}

await main();
