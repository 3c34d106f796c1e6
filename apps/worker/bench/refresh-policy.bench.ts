// Refresh policy benchmark: `pnpm bench policy` (or `pnpm exec tsx apps/worker/bench/refresh-policy.bench.ts
// [accounts] [rounds] [days]`). Real Postgres, Redis and the TikTok sandbox (2-hour access, 180-day refresh tokens).
//
// 1. TikTok refresh calls per account per day under each policy, counted by the sandbox, over `days` simulated days
//    (the service's and the sandbox's clocks move together; the scheduled runs are what the processor does:
//    `refresh(reason: scheduled)` at `refreshJobs.nextRunAt(row)`):
//    - policy off (REFRESH_ACTIVE_WINDOW_HOURS=0): every account refreshed ahead of every expiry;
//    - policy on, accounts in use: their app asks for the access token every 2 hours;
//    - policy on, idle accounts: nobody asks.
// 2. One worker's sustained refresh throughput (BullMQ worker, concurrency 20, every job due at once) against a raw
//    loop of the same HTTP calls (fetch to the sandbox's token endpoint) plus the same SQL writes (one UPDATE + event
//    INSERT statement with `pg`) at the same concurrency, interleaved rounds.
// 3. What recording "asked for recently" costs on the access-token path: `getFreshAccessToken` over the accounts
//    with the stored time fresh (the usual case: nothing written) against the same with a write on every call.
// Env: BENCH_DATABASE_URL / TEST_DATABASE_URL, BENCH_REDIS_URL / TEST_REDIS_URL.
import { randomUUID } from 'node:crypto';
import { createAccounts, tokenAad } from '@ttc/accounts';
import { connectThroughTikTok, createTestAccounts, type TestAccounts } from '@ttc/accounts/testing';
import { decryptToken, encryptToken, generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection } from '@ttc/queue';
import { createTikTokClient } from '@ttc/tiktok';
import { startSandbox } from '@ttc/tiktok-sandbox';
import pg from 'pg';
import { pino } from 'pino';
import { buildWorker } from '../src/worker.js';
import { type BenchRow, deletePrefix, loadAverage, ratios, spread, writeBenchRows } from './support.js';

const N = Number(process.argv[2] ?? 1_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const DAYS = Number(process.argv[4] ?? 15);
const SIM_ACCOUNTS = 10;
const CONCURRENCY = 20;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const serverUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const OPEN_IDS = ['sbx-open-ava', 'sbx-open-ben', 'sbx-open-chloe', 'sbx-open-dev', 'sbx-open-emi', 'sbx-open-zoe'];

async function main() {
  const loadStart = loadAverage();
  const db = await createTestDatabase({ serverUrl, poolSize: 10 });
  const sandbox = await startSandbox({ port: 0 });
  const redis = createRedisConnection(redisUrl, 'client', 'bench');
  const producer = createRedisConnection(redisUrl, 'producer', 'bench');
  const keyring = parseKeyring(generateKeyringEntry());
  const prefixes: string[] = [];
  const pool = new pg.Pool({ connectionString: db.url, max: CONCURRENCY });
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;
  const service = (lifecycle: Record<string, number>, sharedPrefix?: string): TestAccounts => {
    const queuePrefix = sharedPrefix ?? `bench-policy-${randomUUID().slice(0, 8)}`;
    prefixes.push(queuePrefix);
    return createTestAccounts({
      prisma: db.prisma,
      keyring,
      redis,
      queues: createQueues({ connection: producer, prefix: queuePrefix }),
      queuePrefix,
      tiktok: createTikTokClient({ ...sandbox.clientOptions, timeoutMs: 10_000, now }),
      lifecycle,
      now,
    });
  };
  const refreshCalls = async () => (await sandbox.control.calls({ endpoint: 'refresh' })).length;
  try {
    // --- 1. Calls per account per day, simulated days.
    const simulate = async (policyOn: boolean, inUse: boolean): Promise<number> => {
      const accounts = service(policyOn ? { activeWindowMs: DAY, idleRefreshEveryMs: 7 * DAY } : { activeWindowMs: 0 });
      const ids: string[] = [];
      for (let i = 0; i < SIM_ACCOUNTS; i++) {
        const openId = OPEN_IDS[i % OPEN_IDS.length] ?? 'sbx-open-ava';
        ids.push((await connectThroughTikTok(accounts, sandbox.control, { openId })).accountId);
      }
      const due = new Map<string, number>();
      for (const id of ids)
        due.set(id, accounts.refreshJobs.nextRunAt(await accounts.readTokenRow(id))?.getTime() ?? 0);
      const callsBefore = await refreshCalls();
      const end = now() + DAYS * DAY;
      let nextAsk = now();
      for (;;) {
        const nextDue = Math.min(...due.values());
        const t = inUse ? Math.min(nextDue, nextAsk) : nextDue;
        if (t >= end) break;
        if (t > now()) {
          const step = t - now();
          offsetMs += step;
          await sandbox.control.advanceTime(step / 1000);
        }
        if (inUse && now() >= nextAsk) {
          for (const id of ids) await accounts.getFreshAccessToken(id);
          for (const id of ids) {
            due.set(id, accounts.refreshJobs.nextRunAt(await accounts.readTokenRow(id))?.getTime() ?? 0);
          }
          nextAsk = now() + 2 * HOUR;
        }
        for (const id of ids) {
          if ((due.get(id) ?? 0) > now()) continue;
          const result = await accounts.refresh(id, { reason: 'scheduled', schedule: false });
          due.set(id, accounts.refreshJobs.nextRunAt(result.account, result.retryAt)?.getTime() ?? end);
        }
      }
      return (await refreshCalls()) - callsBefore;
    };
    const perDay = (calls: number) => Number((calls / SIM_ACCOUNTS / DAYS).toFixed(2));
    const callsOff = perDay(await simulate(false, true));
    const callsInUse = perDay(await simulate(true, true));
    const callsIdle = perDay(await simulate(true, false));
    console.log(
      `TikTok refresh calls per account per day over ${DAYS} days: policy off ${callsOff}, in use ${callsInUse}, idle ${callsIdle}`,
    );
    offsetMs = 0;
    await sandbox.control.reset();

    // --- 2. Throughput: one worker vs a raw loop of the same HTTP calls and SQL writes.
    const prefix = `bench-policy-${randomUUID().slice(0, 8)}`;
    const accounts = service({ activeWindowMs: 0 }, prefix);
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const openId = OPEN_IDS[i % OPEN_IDS.length] ?? 'sbx-open-ava';
      ids.push((await connectThroughTikTok(accounts, sandbox.control, { openId })).accountId);
    }
    console.log(`connected ${N} accounts through the sandbox`);
    const refreshedCount = async () => {
      const [row] = await db.prisma.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM account_events WHERE type = 'REFRESHED'`;
      return row?.n ?? 0;
    };
    const logger = pino({ level: 'silent' });
    const oursRound = async (): Promise<number> => {
      await db.prisma.$executeRaw`UPDATE social_accounts SET next_refresh_at = now() - interval '1 second'`;
      await accounts.reconcile({ full: true });
      const before = await refreshedCount();
      const connection = createRedisConnection(redisUrl, 'worker', 'bench');
      const started = performance.now();
      await accounts.queues.tokenRefresh.promoteJobs();
      const built = buildWorker({
        accounts,
        connection,
        prefix,
        concurrency: CONCURRENCY,
        logger,
        queues: ['token.refresh'],
      });
      while ((await refreshedCount()) - before < N) await new Promise((r) => setTimeout(r, 20));
      const seconds = (performance.now() - started) / 1000;
      await built.close();
      connection.disconnect();
      return N / seconds;
    };
    const rawRound = async (): Promise<number> => {
      const rows = await db.prisma.$queryRaw<
        { id: string; userId: string; openId: string; ct: string; version: number }[]
      >`SELECT id::text AS id, user_id AS "userId", open_id AS "openId", refresh_token_ciphertext AS ct,
          token_version AS version FROM social_accounts WHERE status = 'ACTIVE'`;
      const work = rows.map((r) => ({ ...r, refreshToken: decryptToken(keyring, r.ct, tokenAad(r)) }));
      let next = 0;
      const started = performance.now();
      const loop = async () => {
        for (let i = next++; i < work.length; i = next++) {
          const w = work[i];
          if (!w) continue;
          const res = await fetch(`${sandbox.clientOptions.apiUrl}/v2/oauth/token/`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
            body: new URLSearchParams({
              client_key: sandbox.clientOptions.clientKey,
              client_secret: sandbox.clientOptions.clientSecret,
              grant_type: 'refresh_token',
              refresh_token: w.refreshToken,
            }).toString(),
          });
          const t = (await res.json()) as {
            access_token: string;
            refresh_token: string;
            expires_in: number;
            refresh_expires_in: number;
          };
          const aad = tokenAad(w);
          const at = Date.now();
          await pool.query(
            `WITH updated AS (
               UPDATE social_accounts SET access_token_ciphertext = $2, refresh_token_ciphertext = $3,
                 access_token_expires_at = $4, refresh_token_expires_at = $5, tokens_obtained_at = $6,
                 token_version = token_version + 1, next_refresh_at = $7, last_refreshed_at = $6,
                 refresh_failure_count = 0, last_error = NULL, last_error_at = NULL, updated_at = $6
               WHERE id = $1 AND token_version = $8 AND status = 'ACTIVE' RETURNING id
             )
             INSERT INTO account_events (account_id, type, message, data, created_at)
             SELECT id, 'REFRESHED', 'Tokens refreshed', $9::jsonb, $6 FROM updated`,
            [
              w.id,
              encryptToken(keyring, t.access_token, aad),
              encryptToken(keyring, t.refresh_token, aad),
              new Date(at + t.expires_in * 1000),
              new Date(at + t.refresh_expires_in * 1000),
              new Date(at),
              new Date(at + t.expires_in * 1000 - 600_000),
              w.version,
              JSON.stringify({ reason: 'raw', expiresIn: t.expires_in }),
            ],
          );
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, loop));
      return work.length / ((performance.now() - started) / 1000);
    };
    const ours: number[] = [];
    const raw: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      ours.push(await oursRound());
      raw.push(await rawRound());
      console.log(
        `round ${round}: worker ${ours.at(-1)?.toFixed(0)} refreshes/s, raw loop ${raw.at(-1)?.toFixed(0)} refreshes/s`,
      );
    }

    // --- 3. The cost of recording "asked for recently" on the access-token path.
    const touchFresh = createAccounts({
      prisma: db.prisma,
      keyring,
      redis,
      queues: accounts.queues,
      queuePrefix: prefix,
      tiktok: accounts.tiktok,
    });
    const touchAlways = createAccounts({
      prisma: db.prisma,
      keyring,
      redis,
      queues: accounts.queues,
      queuePrefix: prefix,
      tiktok: accounts.tiktok,
      lifecycle: { accessTouchMs: 0 },
    });
    const sample = ids.slice(0, 500);
    const tokensPerSecond = async (svc: typeof touchFresh) => {
      const started = performance.now();
      let i = 0;
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let k = i++; k < sample.length; k = i++) await svc.getFreshAccessToken(sample[k] ?? '');
        }),
      );
      return sample.length / ((performance.now() - started) / 1000);
    };
    await tokensPerSecond(touchFresh); // records the time once: from here on, nothing to write
    const fresh: number[] = [];
    const always: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      fresh.push(await tokensPerSecond(touchFresh));
      always.push(await tokensPerSecond(touchAlways));
      console.log(
        `round ${round}: getFreshAccessToken ${fresh.at(-1)?.toFixed(0)}/s recorded time fresh, ${always.at(-1)?.toFixed(0)}/s writing every call`,
      );
    }

    const load = `${loadStart}–${loadAverage()}`;
    const one = (v: number) => ({ median: v, min: v, max: v });
    const rows: BenchRow[] = [
      {
        measure: `TikTok refresh calls per account per day, accounts in use (asked every 2 h), ${DAYS} simulated days`,
        project: 'policy on (REFRESH_ACTIVE_WINDOW_HOURS=24): refreshed ahead of expiry',
        baseline: 'policy off: every account ahead of every expiry',
        unit: 'calls/account/day',
        projectValue: one(callsInUse),
        baselineValue: one(callsOff),
        ratio: one(Number((callsInUse / callsOff).toFixed(3))),
        goal: null,
        met: null,
        rounds: 1,
        load,
      },
      {
        measure: `TikTok refresh calls per account per day, idle accounts, ${DAYS} simulated days`,
        project: 'policy on (REFRESH_IDLE_EVERY_DAYS=7): kept alive, on demand when asked',
        baseline: 'policy off: every account ahead of every expiry',
        unit: 'calls/account/day',
        projectValue: one(callsIdle),
        baselineValue: one(callsOff),
        ratio: one(Number((callsIdle / callsOff).toFixed(3))),
        goal: null,
        met: null,
        rounds: 1,
        load,
      },
      {
        measure: `one worker's sustained refresh throughput through the sandbox, ${N} accounts, concurrency ${CONCURRENCY}`,
        project: 'BullMQ worker: token.refresh jobs (lock, fenced write + event, reschedule)',
        baseline: 'raw loop: same HTTP refresh calls + same UPDATE/INSERT statement (pg)',
        unit: 'refreshes/s',
        projectValue: spread(ours, 0),
        baselineValue: spread(raw, 0),
        ratio: ratios(ours, raw),
        goal: null,
        met: null,
        rounds: ROUNDS,
        load,
      },
      {
        measure: `getFreshAccessToken with the "asked for" time written on every call, ${sample.length} accounts`,
        project: 'conditional UPDATE on every call (worst case; accessTouchMs = 0)',
        baseline: 'the usual case: recorded time fresh, nothing written (default 10 min)',
        unit: 'calls/s',
        projectValue: spread(always, 0),
        baselineValue: spread(fresh, 0),
        ratio: ratios(always, fresh),
        goal: null,
        met: null,
        rounds: ROUNDS,
        load,
      },
    ];
    console.log(`\nrefresh policy, load ${load}`);
    for (const r of rows) {
      console.log(
        `${r.measure}\n  ${r.project}: ${r.projectValue.median} ${r.unit} (${r.projectValue.min}–${r.projectValue.max}); ` +
          `${r.baseline}: ${r.baselineValue?.median} (${r.baselineValue?.min}–${r.baselineValue?.max}); ratio ${r.ratio?.median} (${r.ratio?.min}–${r.ratio?.max})`,
      );
    }
    writeBenchRows('policy', rows);
  } finally {
    for (const p of prefixes) await deletePrefix(redis, p).catch(() => undefined);
    await pool.end();
    redis.disconnect();
    producer.disconnect();
    await sandbox.close();
    await db.drop();
  }
}

await main();
