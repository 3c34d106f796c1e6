import closeWithGrace from 'close-with-grace';

/** One step of a shutdown, logged as `shutdown <i>/<n>: <title>` before it runs. */
export interface ShutdownStep {
  title: string;
  /** Extra fields for that log line, read when the step starts (how many jobs are still running, say). */
  fields?: () => Record<string, unknown>;
  run: () => unknown;
}

/** What pino, Fastify's `app.log` or a few lines over `console` provide. */
export interface ShutdownLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface ShutdownOptions {
  logger: ShutdownLogger;
  /** Past this the process exits 1 without waiting for the steps; without it they take as long as they take. */
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

/**
 * Runs the steps one after another. A step that fails is logged and the next one still runs: a stuck queue must not
 * keep Postgres open. Resolves with whether every step succeeded.
 */
export async function runShutdownSteps(
  steps: ShutdownStep[],
  logger: ShutdownLogger,
  fields: Record<string, unknown> = {},
): Promise<boolean> {
  const started = Date.now();
  let ok = true;
  for (const [index, step] of steps.entries()) {
    logger.info(
      { ...(index === 0 ? fields : {}), ...step.fields?.() },
      `shutdown ${index + 1}/${steps.length}: ${step.title}`,
    );
    try {
      await step.run();
    } catch (err) {
      ok = false;
      logger.error({ err, step: step.title }, 'shutdown step failed');
    }
  }
  logger.info({ ms: Date.now() - started }, 'shutdown complete');
  return ok;
}

/**
 * On the first SIGTERM or SIGINT runs the steps in order, then exits 0, or 1 if a step failed. A second signal, or
 * `timeoutMs` running out, exits 1 at once. `closing()` tells code still starting up that it should not start more.
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
      onSecondSignal: (signal) => logger.warn({ signal }, 'second signal: exiting now'),
      onTimeout: (ms) => logger.error({ ms }, 'shutdown took too long, exiting'),
    },
    async ({ signal }) => {
      closing = true;
      if (!(await runShutdownSteps(options.steps(), logger, { signal }))) throw new Error('a shutdown step failed');
    },
  );
  return { closing: () => closing };
}
