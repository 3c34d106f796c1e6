import type { EventEmitter } from 'node:events';
import type { RedisClient } from '@ttc/queue';
import { type ConnectResult, connectResult, duplicateRedisConnection, jobIds, QueueNames } from '@ttc/queue';
import { QueueEvents } from 'bullmq';
import type { ConnectSessionStore } from './connect-sessions.js';

/**
 * The connect page's wait for the worker, without polling. The worker records a connection's outcome in the connect
 * session (`result:<connectionId>`, where the page reads every result) and then completes the `account.connected`
 * job; BullMQ publishes that in the queue's event stream, which one `QueueEvents` reader per gateway follows with a
 * blocking read. A page whose result is still `pending` listens for its job's `completed` event, whose return value
 * is the outcome.
 *
 * Why this and not a Redis key per outcome polled every 100 ms (the first version) or saving inline in the callback:
 * the job stays the one way connections are stored (the worker's retries and idempotence), the result is written once,
 * where it is read, and the page answers as soon as the worker is done instead of on the next poll tick.
 */
export class ConnectOutcomeWaiter {
  private readonly events: QueueEvents;
  /** The same reader as an emitter: BullMQ emits `completed:<jobId>` per job but types only the generic names. */
  private readonly jobEvents: EventEmitter;
  private readonly connection: RedisClient;

  constructor(private readonly deps: { redis: RedisClient; prefix: string; sessions: ConnectSessionStore }) {
    // A blocking reader needs its own connection (BullMQ's rule: no retry limit per request on it), without the
    // request path's fail-fast options (a 2 s command timeout would cut every blocking read).
    this.connection = duplicateRedisConnection(deps.redis, {
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
      enableOfflineQueue: true,
      connectionName: 'gateway:connect-events',
    });
    // Redis trouble is reported by the gateway's main connection and /readyz; this one just reconnects.
    this.connection.on('error', () => undefined);
    this.events = new QueueEvents(QueueNames.accountConnected, { connection: this.connection, prefix: deps.prefix });
    // Without a listener an 'error' event would crash the process; a lost reader only makes pages wait longer.
    this.events.on('error', () => undefined);
    this.jobEvents = this.events as unknown as EventEmitter;
    // Listeners are per job id and removed when their page answers; several tabs on one result are fine.
    this.jobEvents.setMaxListeners(0);
  }

  /**
   * The session's result `resultId` (null when there is none: unknown id, other session, expired), waiting up to
   * `timeoutMs` while it is `pending`; `waiting` is true when it was still pending then (the page says "Adding…" and
   * reloads itself). One read of the session; the worker's outcome otherwise comes with the job's `completed` event.
   */
  async settle(
    sessionRef: string,
    resultId: string,
    timeoutMs: number,
  ): Promise<{ result: ConnectResult | null; waiting: boolean }> {
    const jobId = jobIds.accountConnected(resultId);
    const completed = `completed:${jobId}`;
    const failed = `failed:${jobId}`;
    let onCompleted: (event: { returnvalue?: unknown }) => void = () => undefined;
    let onFailed: () => void = () => undefined;
    const finished = new Promise<ConnectResult | null>((resolve) => {
      onCompleted = (event) => resolve(outcomeOf(event.returnvalue));
      // Failed for good: the worker recorded a `failed` result in the session before giving up.
      onFailed = () =>
        void this.deps.sessions.readResult(sessionRef, resultId).then(
          (result) => resolve(result?.kind === 'pending' ? null : result),
          () => resolve(null),
        );
    });
    // Listen first, then read: an outcome recorded before the listener was added is found by the read, and one
    // recorded after it comes with an event the listener gets.
    this.jobEvents.on(completed, onCompleted);
    this.jobEvents.on(failed, onFailed);
    let timer: NodeJS.Timeout | undefined;
    try {
      const stored = await this.deps.sessions.readResult(sessionRef, resultId);
      if (stored?.kind !== 'pending') return { result: stored, waiting: false };
      const timedOut = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), timeoutMs);
      });
      const outcome = await Promise.race([finished, timedOut]);
      return outcome ? { result: outcome, waiting: false } : { result: stored, waiting: true };
    } finally {
      clearTimeout(timer);
      this.jobEvents.off(completed, onCompleted);
      this.jobEvents.off(failed, onFailed);
    }
  }

  /** Stops the reader. Bounded: BullMQ's close waits for a connection that may never come (Redis down). */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.events.close().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1_000);
      }),
    ]);
    clearTimeout(timer);
    this.connection.disconnect();
  }
}

/** The `done` result carried by an `account.connected` job's return value (the worker's `ConnectOutcome`), if any. */
function outcomeOf(returnvalue: unknown): ConnectResult | null {
  const parsed = connectResult.safeParse({ kind: 'done', ...(returnvalue as object) });
  return parsed.success ? parsed.data : null;
}
