// Webhook delivery throughput benchmark: `pnpm bench webhooks` (or `pnpm exec tsx apps/worker/bench/webhook-delivery.bench.ts`).
//
// End to end, on a throwaway Postgres database and a private Redis key prefix (deleted afterwards):
//   (A) the real path: N account connections through `accounts.applyConnection` (payloads from `makeTestConnection`)
//       with one webhook endpoint configured, so each commits one `account.connected` event and its delivery row in
//       the connection's own statement and enqueues its `webhook.deliver` job. The queue is paused while recording;
//       the clock starts when every row is committed (queue resumed) and stops when the receiver has answered 204 to
//       all N deliveries. The worker is the real one (`buildWorker`, webhook queue only, concurrency C) with the real
//       deliverer (reads the outbox, signs with two secrets, POSTs, writes the attempt). Also reported: the time
//       until every delivery row reads DELIVERED in Postgres.
//   (B) the baseline: N plain `fetch` POSTs of a body of the same size as the real ones, to the same receiver, C at
//       a time.
// Rounds are interleaved (A B A B …) and warmed up; each round's ratio is A's events/s over B's. Everything runs in
// this one process (worker, receiver, baseline client), as the worker would with its receiver elsewhere: the ratio is
// what the outbox, BullMQ, Postgres and signing cost over bare HTTP.
// Env: BENCH_EVENTS (N, default 2,000), BENCH_ROUNDS (default 3), BENCH_CONCURRENCY (C, default 20, as the default
// WORKER_CONCURRENCY), BENCH_DATABASE_URL / TEST_DATABASE_URL, BENCH_REDIS_URL / TEST_REDIS_URL.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createTestAccounts, makeTestConnection } from '@ttc/accounts/testing';
import { generateKeyringEntry, parseKeyring } from '@ttc/crypto';
import { createTestDatabase } from '@ttc/db/testing';
import { createQueues, createRedisConnection, QueueNames } from '@ttc/queue';
import { createWebhookDeliverer } from '@ttc/webhooks';
import { pino } from 'pino';
import { row, writeRows } from '../../../packages/devtools/bin/bench-rows.mjs';
import { buildWorker } from '../src/worker.js';
import { deletePrefix, writeResults } from './support.js';

const N = Number(process.env.BENCH_EVENTS ?? 2_000);
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const C = Number(process.env.BENCH_CONCURRENCY ?? 20);
const WARMUP = Math.min(200, N);
const serverUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** Counts requests answered 204 (counted once the response is written) and resolves a waiter at a target count. */
async function startCountingReceiver() {
  let answered = 0;
  let bodyBytes = 0;
  let target: { count: number; resolve: (at: number) => void } | undefined;
  const server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on('end', () => {
      res.writeHead(204).end(() => {
        bodyBytes = size;
        answered++;
        if (target && answered >= target.count) target.resolve(performance.now());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    lastBodyBytes: () => bodyBytes,
    /**
     * Resets the count; the promise resolves with the time the `count`-th answer was written. It rejects after a
     * generous deadline (a stuck run fails instead of hanging; not a performance threshold).
     */
    expect(count: number): Promise<number> {
      answered = 0;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`receiver answered ${answered} of ${count} requests in 10 minutes`)),
          600_000,
        );
        timer.unref();
        target = {
          count,
          resolve: (at) => {
            clearTimeout(timer);
            resolve(at);
          },
        };
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `task(i)` for i in [0, count), `parallel` at a time. */
async function pool(count: number, parallel: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round2 = (x: number) => Number(x.toFixed(2));

async function main() {
  const loadBefore = loadavg();
  const db = await createTestDatabase({ serverUrl, poolSize: 10 });
  const prefix = `bench-wh-${randomUUID().slice(0, 8)}`;
  const redis = createRedisConnection(redisUrl, 'client', 'bench');
  const producer = createRedisConnection(redisUrl, 'producer', 'bench');
  const connection = createRedisConnection(redisUrl, 'worker', 'bench');
  const queues = createQueues({ connection: producer, prefix });
  const receiver = await startCountingReceiver();
  const endpoints = [receiver.url];
  const keyring = parseKeyring(generateKeyringEntry());
  const accounts = createTestAccounts({
    prisma: db.prisma,
    keyring,
    redis,
    queues,
    queuePrefix: prefix,
    webhooks: { endpoints },
  });
  // Two secrets (a rotation in progress): the heavier signing case.
  const deliverer = createWebhookDeliverer({
    prisma: db.prisma,
    queues,
    redis,
    endpoints,
    secrets: [secret(), secret()],
  });
  const worker = buildWorker({
    accounts,
    webhooks: deliverer,
    connection,
    prefix,
    concurrency: C,
    logger: pino({ level: 'silent' }),
    queues: [QueueNames.webhookDeliver],
    closeTimeoutMs: 5_000,
  });

  const delivered = async () =>
    Number(
      (
        await db.prisma.$queryRaw<{ n: bigint }[]>`
          SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'DELIVERED'::"webhook_delivery_state"`
      )[0]?.n ?? 0,
    );

  /** (A): records `count` connections with the queue paused, then times their delivery. */
  async function outboxRound(count: number) {
    await queues.webhookDeliver.pause();
    const recordStarted = performance.now();
    await pool(count, 10, async () => {
      const outcome = await accounts.applyConnection(makeTestConnection(keyring).payload);
      if (outcome.outcome !== 'added') throw new Error(`connection not applied: ${JSON.stringify(outcome)}`);
    });
    const recordMs = performance.now() - recordStarted;
    const pending = await db.prisma.webhookDelivery.count({ where: { state: 'PENDING' } });
    if (pending !== count) throw new Error(`expected ${count} pending deliveries, found ${pending}`);
    const answeredAt = receiver.expect(count);
    const started = performance.now();
    await queues.webhookDeliver.resume();
    const receivedMs = (await answeredAt) - started;
    while ((await delivered()) < count) await new Promise((r) => setTimeout(r, 5));
    const loggedMs = performance.now() - started;
    const bodyBytes = receiver.lastBodyBytes();
    await db.prisma.$executeRaw`TRUNCATE webhook_deliveries, webhook_events, account_events, social_accounts CASCADE`;
    return { recordMs, receivedMs, loggedMs, bodyBytes };
  }

  /** (B): `count` plain POSTs of `bodyBytes` bytes, C at a time. */
  async function fetchRound(count: number, bodyBytes: number) {
    const body = JSON.stringify({ pad: 'x'.repeat(Math.max(0, bodyBytes - 10)) });
    const answeredAt = receiver.expect(count);
    const started = performance.now();
    await pool(count, C, async () => {
      const res = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.body?.cancel();
      if (res.status !== 204) throw new Error(`baseline POST answered ${res.status}`);
    });
    return { receivedMs: (await answeredAt) - started, bodyBytes: Buffer.byteLength(body) };
  }

  try {
    // Warm-up of both sides (JIT, connection pools, prepared plans); not measured.
    const warm = await outboxRound(WARMUP);
    await fetchRound(WARMUP, warm.bodyBytes);

    const rounds: {
      round: number;
      outbox: { recordMs: number; receivedMs: number; loggedMs: number; bodyBytes: number; eventsPerSec: number };
      fetch: { receivedMs: number; bodyBytes: number; eventsPerSec: number };
      ratio: number;
    }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const a = await outboxRound(N);
      const b = await fetchRound(N, a.bodyBytes);
      const outbox = { ...a, eventsPerSec: (N / a.receivedMs) * 1000 };
      const plain = { ...b, eventsPerSec: (N / b.receivedMs) * 1000 };
      rounds.push({ round, outbox, fetch: plain, ratio: outbox.eventsPerSec / plain.eventsPerSec });
      console.log(
        `round ${round}: outbox→worker→receiver ${outbox.eventsPerSec.toFixed(0)} events/s ` +
          `(rows DELIVERED after ${a.loggedMs.toFixed(0)} ms; recording took ${a.recordMs.toFixed(0)} ms), ` +
          `plain fetch ${plain.eventsPerSec.toFixed(0)} req/s, ratio ${(outbox.eventsPerSec / plain.eventsPerSec).toFixed(2)}`,
      );
    }

    const ratios = rounds.map((r) => r.ratio);
    const results = {
      events: N,
      roundCount: ROUNDS,
      concurrency: C,
      endpoints: 1,
      secrets: 2,
      recordedThrough: 'accounts.applyConnection (makeTestConnection payloads), queue paused while recording',
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      loadavg: { before: loadBefore.map(round2), after: loadavg().map(round2) },
      ratioMedian: round2(median(ratios)),
      ratioMin: round2(Math.min(...ratios)),
      ratioMax: round2(Math.max(...ratios)),
      outboxEventsPerSecMedian: Math.round(median(rounds.map((r) => r.outbox.eventsPerSec))),
      fetchEventsPerSecMedian: Math.round(median(rounds.map((r) => r.fetch.eventsPerSec))),
      recordEventsPerSecMedian: Math.round(median(rounds.map((r) => (N / r.outbox.recordMs) * 1000))),
      rounds: rounds.map((r) => ({
        round: r.round,
        ratio: round2(r.ratio),
        outbox: {
          eventsPerSec: Math.round(r.outbox.eventsPerSec),
          receivedMs: Math.round(r.outbox.receivedMs),
          allRowsDeliveredMs: Math.round(r.outbox.loggedMs),
          recordMs: Math.round(r.outbox.recordMs),
          bodyBytes: r.outbox.bodyBytes,
        },
        fetch: {
          eventsPerSec: Math.round(r.fetch.eventsPerSec),
          receivedMs: Math.round(r.fetch.receivedMs),
          bodyBytes: r.fetch.bodyBytes,
        },
      })),
    };
    const fmt = (xs: number[]) =>
      `median ${Math.round(median(xs))}, ${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;
    console.log(`\nwebhook delivery, ${N.toLocaleString('en')} events × ${ROUNDS} rounds, concurrency ${C}`);
    console.log(
      `${'outbox → worker → receiver (events/s)'.padEnd(44)} ${fmt(rounds.map((r) => r.outbox.eventsPerSec))}`,
    );
    console.log(`${'plain fetch POSTs (req/s)'.padEnd(44)} ${fmt(rounds.map((r) => r.fetch.eventsPerSec))}`);
    console.log(
      `${'ratio outbox / plain fetch'.padEnd(44)} median ${results.ratioMedian}, ${results.ratioMin}–${results.ratioMax}`,
    );
    console.log(
      `${'load average (1/5/15 min) before / after'.padEnd(44)} ${results.loadavg.before.join(' ')} / ${results.loadavg.after.join(' ')} (${results.cpus} CPUs)`,
    );
    writeResults('webhook-delivery', results);
    writeRows(fileURLToPath(new URL('./results/', import.meta.url)), 'webhooks', [
      row({
        measure: `webhooks end to end, ${N.toLocaleString('en')} events (outbox → worker → receiver)`,
        project: `outbox + worker, concurrency ${C}`,
        baseline: `plain fetch POSTs, ${C} at a time`,
        unit: 'events/s',
        projectRounds: rounds.map((r) => r.outbox.eventsPerSec),
        baselineRounds: rounds.map((r) => r.fetch.eventsPerSec),
        load: `${(loadBefore[0] ?? 0).toFixed(1)}–${(loadavg()[0] ?? 0).toFixed(1)}`,
      }),
    ]);
  } finally {
    await worker.close();
    await receiver.close();
    await queues.close();
    await deletePrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    producer.disconnect();
    connection.disconnect();
    await db.drop();
  }
}

await main();
