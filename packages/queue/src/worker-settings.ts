import type { WorkerOptions } from 'bullmq';

/**
 * Lock and stall settings of every BullMQ worker of this project (`buildWorker` in apps/worker), chosen so that a job
 * whose worker died (SIGKILL, OOM, a lost machine) runs again within 35 s:
 *
 * - a worker renews the locks of its jobs every `lockDuration / 2` (7.5 s); a dead one stops, so its locks lapse at
 *   most `lockDuration` (15 s) after it died;
 * - every `stalledInterval` (10 s) one live worker of the queue looks at the active jobs: a job it had seen active
 *   at the previous check and whose lock has lapsed goes back to waiting, where a live worker takes it at once;
 * - so a dead worker's job waits at most `lockDuration + stalledInterval` = 25 s (BullMQ's defaults, 30 s + 30 s,
 *   measured ~100 s with the checks of two workers out of phase).
 *
 * The price of a shorter lock: a job is taken for stalled when its worker's event loop is blocked for longer than
 * `lockDuration`; these processors only wait on I/O (no CPU-bound work), so 15 s of blocking does not happen. The
 * stall check is one Lua call per queue per interval, shared by all workers.
 *
 * `maxStalledCount: 3`: every processor is idempotent, so a job is safely run again after its worker died, up to 3
 * times (a rolling restart that kills workers must not fail connections); a job that kills its worker every time
 * (a poison payload) fails on the fourth stall instead of taking workers down forever.
 */
export const workerLockSettings = {
  lockDuration: 15_000,
  stalledInterval: 10_000,
  maxStalledCount: 3,
} as const satisfies Partial<WorkerOptions>;

/** The longest a dead worker's job waits before another worker takes it, with these settings. */
export function stalledJobPickupBoundMs(settings: Pick<WorkerOptions, 'lockDuration' | 'stalledInterval'>): number {
  return (settings.lockDuration ?? 30_000) + (settings.stalledInterval ?? 30_000);
}
