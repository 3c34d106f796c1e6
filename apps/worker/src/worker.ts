import type { Accounts } from '@ttc/accounts';
import { loggedError } from '@ttc/config';
import type { RedisClient } from '@ttc/queue';
import { ALL_QUEUE_NAMES, type QueueName, QueueNames, tokenRefreshWorkerOptions, workerLockSettings } from '@ttc/queue';
import type { WebhookDeliverer } from '@ttc/webhooks';
import { DelayedError, type Job, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { WorkerMetrics } from './metrics.js';
import { accountConnectedProcessor } from './processors/account-connected.js';
import { accountRevokeProcessor } from './processors/account-revoke.js';
import { RefreshRescheduled, tokenRefreshProcessor } from './processors/token-refresh.js';
import { webhookDeliverProcessor } from './processors/webhook-deliver.js';

export interface WorkerDeps {
  /** The process's one account service. */
  accounts: Accounts;
  /** Sends the webhook outbox's deliveries (`webhook.deliver`); without it that queue is not processed. */
  webhooks?: WebhookDeliverer;
  /** Connection with role `worker` (`maxRetriesPerRequest: null`); BullMQ duplicates it for blocking reads. */
  connection: RedisClient;
  /** BullMQ key prefix, the same the producers use. */
  prefix: string;
  /** Jobs processed at once per queue (`config.workerConcurrency`). */
  concurrency: number;
  logger: Logger;
  metrics?: WorkerMetrics;
  /**
   * How long `close()` waits for in-flight jobs before giving up on them and putting them back in the queue.
   * Default 20 s, under the usual 30 s grace period of container orchestrators.
   */
  closeTimeoutMs?: number;
  /** Extra BullMQ worker options (tests shorten lock durations). */
  workerOptions?: Partial<WorkerOptions>;
  /** Queues to process; default all of them. */
  queues?: readonly QueueName[];
}

export interface CloseResult {
  /** True when in-flight jobs outlived the timeout. */
  forced: boolean;
  /** Jobs put back in the queue because they did not finish in time. */
  returnedToQueue: number;
}

export interface BuiltWorker {
  workers: Worker[];
  /** Jobs being processed right now, all queues together. */
  inFlight(): number;
  /**
   * Stops taking jobs and waits for in-flight ones. After `closeTimeoutMs` it signals them to abort and moves them
   * back to waiting, so that another worker picks them up at once instead of after their lock expires. That is safe
   * because every processor is idempotent. Call once; later calls return the first call's promise.
   */
  close(): Promise<CloseResult>;
}

type Processor = (job: Job, token?: string, signal?: AbortSignal) => Promise<unknown>;

/** Creates the BullMQ workers of every queue this app processes (they start at once) and returns their handle. */
export function buildWorker(deps: WorkerDeps): BuiltWorker {
  const { accounts, metrics } = deps;
  const inFlight = new Map<string, { job: Job; token: string | undefined }>();
  const closeTimeoutMs = deps.closeTimeoutMs ?? 20_000;

  const instrument = (queue: string, processor: Processor) => async (job: Job, token?: string, stop?: AbortSignal) => {
    const key = `${queue}/${job.id}`;
    inFlight.set(key, { job, token });
    const log = deps.logger.child({ queue, jobId: job.id, attempt: job.attemptsMade + 1 });
    const stopTimer = deps.metrics?.jobDuration.startTimer({ queue });
    try {
      const result = await processor(job, token, stop);
      stopTimer?.({ status: 'completed' });
      deps.metrics?.jobsProcessed.inc({ queue });
      log.debug('job completed');
      return result;
    } catch (error) {
      if (error instanceof DelayedError || (error as Error | undefined)?.name === 'DelayedError') {
        // The job moved itself to its next run (the refresh job's normal end): not a failure.
        stopTimer?.({ status: 'completed' });
        deps.metrics?.jobsProcessed.inc({ queue });
        const next = error instanceof RefreshRescheduled ? error : undefined;
        if (next?.cause !== undefined) {
          log.warn({ error: loggedError(next.cause), nextRunAt: next.nextRunAt }, 'job failed; moved to retry later');
        } else {
          log.debug({ outcome: next?.outcome, nextRunAt: next?.nextRunAt }, 'job rescheduled');
        }
        throw error;
      }
      stopTimer?.({ status: 'failed' });
      const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      deps.metrics?.jobsFailed.inc({ queue, retry: final ? 'false' : 'true' });
      // The error, never job.data: payloads carry token ciphertexts and user identifiers.
      // A retry ahead is a warning (code and message); a job failed for good is an error, with its stack.
      log[final ? 'error' : 'warn'](
        final ? { err: error, final } : { error: loggedError(error), final },
        final ? 'job failed for good' : 'job failed; will retry',
      );
      throw error;
    } finally {
      inFlight.delete(key);
    }
  };

  const make = (queue: string, processor: Processor) => {
    const worker = new Worker(queue, instrument(queue, processor), {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: deps.concurrency,
      // A dead worker's jobs run again within 25 s (see workerLockSettings for why these values).
      ...workerLockSettings,
      ...(queue === QueueNames.tokenRefresh ? tokenRefreshWorkerOptions : {}),
      ...deps.workerOptions,
    });
    worker.on('error', (err) => deps.logger.error({ err, queue }, 'worker error'));
    return worker;
  };

  const processors: Partial<Record<QueueName, Processor>> = {
    [QueueNames.accountConnected]: accountConnectedProcessor(accounts),
    [QueueNames.tokenRefresh]: tokenRefreshProcessor(accounts, metrics),
    [QueueNames.accountRevoke]: accountRevokeProcessor(accounts),
    ...(deps.webhooks ? { [QueueNames.webhookDeliver]: webhookDeliverProcessor(deps.webhooks, metrics) } : {}),
  };
  const wanted = (deps.queues ?? ALL_QUEUE_NAMES).filter((queue) => processors[queue] !== undefined);
  const workers = wanted.map((queue) => make(queue, processors[queue] as Processor));

  let closing: Promise<CloseResult> | undefined;
  const close = async (): Promise<CloseResult> => {
    const closed = Promise.all(workers.map((w) => w.close()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return { forced: false, returnedToQueue: 0 };

    deps.logger.warn({ inFlight: inFlight.size, closeTimeoutMs }, 'in-flight jobs outlived the close timeout');
    for (const worker of workers) worker.cancelAllJobs('worker shutting down');
    let returnedToQueue = 0;
    for (const { job, token } of inFlight.values()) {
      try {
        await job.moveToWait(token);
        returnedToQueue++;
      } catch (err) {
        // Its lock then expires and the stalled-job check of a running worker puts it back.
        deps.logger.error({ err, jobId: job.id, queue: job.queueName }, 'could not put a job back in the queue');
      }
    }
    // The abandoned processors may still settle later; their completion is then refused (lock lost) and harmless.
    closed.catch(() => undefined);
    return { forced: true, returnedToQueue };
  };

  return {
    workers,
    inFlight: () => inFlight.size,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
