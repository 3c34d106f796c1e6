import type { Accounts, ReconcileReport } from '@ttc/accounts';
import type { WebhookDeliverer } from '@ttc/webhooks';
import type { Logger } from 'pino';
import type { WorkerMetrics } from './metrics.js';

export interface ReconcilerOptions {
  accounts: Accounts;
  /** Time between passes (`config.reconcileIntervalSeconds`). */
  intervalMs: number;
  logger: Logger;
  metrics?: WorkerMetrics;
  pageSize?: number;
  /** When given, each pass also sweeps the webhook outbox (re-enqueues undelivered deliveries whose job is missing). */
  webhooks?: WebhookDeliverer;
  /**
   * Routine events older than this many days are pruned by the worker whose pass held the reconciler lock
   * (`config.eventRetentionDays`). Undefined: no pruning.
   */
  eventRetentionDays?: number;
}

export interface Reconciler {
  /** Runs a pass now (or joins the one running); null when another worker holds the reconciler lock. */
  runNow(): Promise<ReconcileReport | null>;
  /** Stops the timer and waits for a running pass. */
  stop(): Promise<void>;
}

/**
 * Runs the refresh reconciler (and the webhook sweeper) at start and then every `intervalMs`, never two passes at once in this process (and,
 * through its Redis lock, one at a time across workers). Errors are logged and the next pass tries again.
 */
export function startReconciler(options: ReconcilerOptions): Reconciler {
  let running: Promise<ReconcileReport | null> | undefined;
  let stopped = false;

  const runNow = () => {
    running ??= (async () => {
      try {
        const report = await options.accounts.reconcile({ pageSize: options.pageSize });
        if (report) {
          options.metrics?.reconcileRestored.inc({ kind: 'missing' }, report.added);
          options.metrics?.reconcileRestored.inc({ kind: 'failed' }, report.replacedFailed);
          // Only a full pass counts every account; a pass over changed rows leaves the gauge as the last full one set it.
          if (report.mode === 'full') options.metrics?.accessTokenExpired.set(report.accessTokenExpired);
          options.metrics?.reconcileLastRun.set(Date.now() / 1000);
          await pruneEvents(options);
        } else {
          options.logger.debug('reconciler lock held by another worker; skipping this pass');
        }
        return report;
      } catch (err) {
        options.logger.error({ err }, 'reconciler pass failed; the next one retries');
        return null;
      } finally {
        await sweepWebhooks(options);
        running = undefined;
      }
    })();
    return running;
  };

  void runNow();
  const timer = setInterval(() => {
    if (!stopped) void runNow();
  }, options.intervalMs);
  timer.unref();

  return {
    runNow,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Event retention: one worker at a time (the one whose reconciler pass held the lock). Errors wait for the next pass. */
async function pruneEvents(options: ReconcilerOptions): Promise<void> {
  if (options.eventRetentionDays === undefined) return;
  try {
    await options.accounts.pruneEvents({ retentionDays: options.eventRetentionDays });
  } catch (err) {
    options.logger.error({ err }, 'pruning old events failed; the next pass retries');
  }
}

/** The webhook half of a pass: Postgres is the truth, Redis is repaired from it. Errors wait for the next pass. */
async function sweepWebhooks(options: ReconcilerOptions): Promise<void> {
  if (!options.webhooks) return;
  try {
    const report = await options.webhooks.sweep();
    options.metrics?.webhookSweepRestored.inc(report.added + report.replacedFailed);
  } catch (err) {
    options.logger.error({ err }, 'webhook sweep failed; the next pass retries');
  }
}
