import type { EventEmitter } from 'node:events';
import { jobIds, QueueNames } from '@ttc/queue';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ConnectResult, ConnectSessionStore } from './connect-sessions.js';

/**
 * The connect page's wait for the worker, without polling. The worker records a connection's outcome in the connect
 * session (`result:<connectionId>`, where the page reads every result) and then completes the `account.connected`
 * job; BullMQ publishes that in the queue's event stream, which one `QueueEvents` reader per gateway follows with a
 * blocking read. A page waiting for a result listens for its job's `completed` (or `failed`) event and reads the
 * session again when it arrives.
 *
 * Why this and not a Redis key per outcome polled every 100 ms (the first version) or saving inline in the callback:
 * the job stays the one way connections are stored (the worker's retries and idempotence), the result is written once,
 * where it is read, and the page answers as soon as the worker is done instead of on the next poll tick.
 */
export class ConnectOutcomeWaiter {
  private readonly events: QueueEvents;
  /** The same reader as an emitter: BullMQ emits `completed:<jobId>` per job but types only the generic names. */
  private readonly jobEvents: EventEmitter;
  private readonly connection: Redis;

  constructor(private readonly deps: { redis: Redis; prefix: string; sessions: ConnectSessionStore }) {
    // A blocking reader needs its own connection (BullMQ's rule: no retry limit per request on it).
    this.connection = deps.redis.duplicate({ maxRetriesPerRequest: null, connectionName: 'gateway:connect-events' });
    this.events = new QueueEvents(QueueNames.accountConnected, { connection: this.connection, prefix: deps.prefix });
    // Without a listener an 'error' event would crash the process; a lost reader only makes pages wait longer.
    this.events.on('error', () => undefined);
    this.jobEvents = this.events as unknown as EventEmitter;
  }

  /**
   * The session's result `resultId` once it is no longer `pending`, or null when `timeoutMs` passes first (the page
   * then says "Adding…" and reloads itself).
   */
  async wait(sessionRef: string, resultId: string, timeoutMs: number): Promise<ConnectResult | null> {
    const jobId = jobIds.accountConnected(resultId);
    const read = async () => {
      const result = await this.deps.sessions.readResult(sessionRef, resultId);
      return result && result.kind !== 'pending' ? result : null;
    };
    return new Promise<ConnectResult | null>((resolve) => {
      let settled = false;
      const finish = (result: ConnectResult | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.jobEvents.off(`completed:${jobId}`, onEvent);
        this.jobEvents.off(`failed:${jobId}`, onEvent);
        resolve(result);
      };
      const onEvent = () => void read().then(finish, () => finish(null));
      const timer = setTimeout(() => finish(null), timeoutMs);
      // Listen first, then look: an outcome written before the listener was added is found by this read, and one
      // written after it comes with an event the listener gets.
      this.jobEvents.on(`completed:${jobId}`, onEvent);
      this.jobEvents.on(`failed:${jobId}`, onEvent);
      read().then(
        (result) => {
          if (result) finish(result);
        },
        () => finish(null),
      );
    });
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
