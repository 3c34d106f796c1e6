import closeWithGrace from 'close-with-grace';

/**
 * Exit codes of a stop: 0 clean; 1 a step failed; 2 forced: the time limit ran out, a second signal came, or a step
 * had to give up on work in flight (jobs put back in the queue, Postgres not closed within its deadline).
 */
export const ShutdownExitCode = { CLEAN: 0, FAILED: 1, FORCED: 2 } as const;

/** What a step's `run` may resolve with: `{ forced: true }` when it had to abandon work to finish in time. */
export interface ShutdownStepResult {
  forced?: boolean;
}

/** One step of a shutdown, logged as `shutdown <i>/<n>: <title>` before it runs. */
export interface ShutdownStep {
  title: string;
  /** Extra fields for that log line, read when the step starts (how many jobs are still running, say). */
  fields?: () => Record<string, unknown>;
  /**
   * The step's own time limit: past it the step is abandoned (logged, counted as forced) and the next one runs, so
   * that one stuck step (Postgres waiting for an abandoned statement, say) cannot take the whole stop's time.
   */
  deadlineMs?: number;
  run: () => unknown;
}

/** Whether the stop was clean, a step failed, or it had to be forced. */
export type ShutdownOutcome = 'clean' | 'failed' | 'forced';

/** What pino, Fastify's `app.log` or a few lines over `console` provide. */
export interface ShutdownLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface ShutdownOptions {
  logger: ShutdownLogger;
  /**
   * Past this the process exits 2 (forced) without waiting for the steps; without it they take as long as they take.
   * The apps pass SHUTDOWN_TIMEOUT_MS.
   */
  timeoutMs?: number;
  /** The steps in the order they run. Called at the first signal, so it sees what was started by then. */
  steps: () => ShutdownStep[];
}

// close-with-grace would also shut down on a crash, on `beforeExit` and on nine more signals. These services stop on
// SIGTERM and SIGINT only; a crash still crashes and the other signals keep Node's default.
const NOT_HANDLED: closeWithGrace.AllEvents[] = [
  'SIGHUP',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGSEGV',
  'SIGUSR2',
  'uncaughtException',
  'unhandledRejection',
  'beforeExit',
];

const PAST_DEADLINE = Symbol('past deadline');

/** `run()`, or {@link PAST_DEADLINE} once `ms` have passed (the step keeps running; nobody waits for it any more). */
async function runWithin(run: () => unknown, ms: number | undefined): Promise<unknown> {
  if (ms === undefined) return run();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(run),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(PAST_DEADLINE), ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the steps one after another. A step that fails, or outlives its own `deadlineMs`, is logged and the next one
 * still runs: a stuck queue must not keep Postgres open. Resolves with the outcome: `failed` wins over `forced`.
 */
export async function runShutdownSteps(
  steps: ShutdownStep[],
  logger: ShutdownLogger,
  fields: Record<string, unknown> = {},
): Promise<ShutdownOutcome> {
  const started = Date.now();
  let failed = false;
  let forced = false;
  for (const [index, step] of steps.entries()) {
    logger.info(
      { ...(index === 0 ? fields : {}), ...step.fields?.() },
      `shutdown ${index + 1}/${steps.length}: ${step.title}`,
    );
    try {
      const result = await runWithin(step.run, step.deadlineMs);
      if (result === PAST_DEADLINE) {
        forced = true;
        logger.warn(
          { step: step.title, deadlineMs: step.deadlineMs },
          'shutdown step outlived its deadline; moving on',
        );
      } else if ((result as ShutdownStepResult | undefined)?.forced === true) {
        forced = true;
      }
    } catch (err) {
      failed = true;
      logger.error({ err, step: step.title }, 'shutdown step failed');
    }
  }
  const outcome: ShutdownOutcome = failed ? 'failed' : forced ? 'forced' : 'clean';
  logger.info({ ms: Date.now() - started, outcome }, 'shutdown complete');
  return outcome;
}

/**
 * On the first SIGTERM or SIGINT runs the steps in order, then exits 0, 1 if a step failed, 2 if one had to force its
 * way ({@link ShutdownExitCode}). A second signal, or `timeoutMs` running out, exits 2 at once. `closing()` tells
 * code still starting up that it should not start more.
 */
export function shutdownOnSignals(options: ShutdownOptions): { closing: () => boolean } {
  const { logger } = options;
  let closing = false;
  closeWithGrace(
    {
      delay: options.timeoutMs ?? false,
      skip: NOT_HANDLED,
      // Only reached when the callback below throws: the failed steps were logged already.
      logger: { error: (err: unknown) => logger.error({ err }, 'shutdown failed') },
      // close-with-grace exits 1 right after these callbacks; exiting here says "forced" instead.
      onSecondSignal: (signal) => {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(ShutdownExitCode.FORCED);
      },
      onTimeout: (ms) => {
        logger.error({ ms }, 'shutdown took too long, exiting');
        process.exit(ShutdownExitCode.FORCED);
      },
    },
    async ({ signal }) => {
      closing = true;
      const outcome = await runShutdownSteps(options.steps(), logger, { signal });
      if (outcome === 'failed') throw new Error('a shutdown step failed');
      if (outcome === 'forced') process.exit(ShutdownExitCode.FORCED);
    },
  );
  return { closing: () => closing };
}

/**
 * Deadline of each connection-closing step of a stop (Redis, Postgres). `prisma.$disconnect()` waits for every
 * statement still running, and an abandoned job's statement may wait on a row lock for as long as its holder keeps it:
 * past this the process exits anyway, the server then rolls the statement back when the socket closes.
 */
export const CLOSE_CONNECTION_DEADLINE_MS = 2_000;

/**
 * The part of a stop of `timeoutMs` (SHUTDOWN_TIMEOUT_MS) given to work in flight (HTTP requests, jobs): the rest is
 * kept for the Redis and Postgres steps and a margin, so that the whole stop ends within `timeoutMs`.
 */
export function inFlightBudgetMs(timeoutMs: number): number {
  return Math.max(500, timeoutMs - 2 * CLOSE_CONNECTION_DEADLINE_MS - 1_000);
}
