/** What a warn-level log line says about an error: enough to act on, never its stack. */
export interface LoggedError {
  type: string;
  /** The error's stable code (`TIKTOK_TIMEOUT`, `P1001`, `ECONNREFUSED`, …), when it has one. */
  code?: string;
  message: string;
  /** The same summary of `cause`, one level deep (e.g. the network error behind a TikTok timeout). */
  cause?: Omit<LoggedError, 'cause'>;
}

const MAX_MESSAGE = 500;

function summary(error: unknown): Omit<LoggedError, 'cause'> {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error).slice(0, MAX_MESSAGE) };
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    message: error.message.slice(0, MAX_MESSAGE),
  };
}

/**
 * An error as warn-level lines log it: `{ error: loggedError(error) }`. Warnings are expected conditions (TikTok down,
 * a dependency not ready, a retry ahead): the stack says nothing an operator can use, bloats every line and shows the
 * code's layout to whoever reads the logs. Error-level lines (bugs, failures for good) keep pino's full serializer.
 */
export function loggedError(error: unknown): LoggedError {
  const logged: LoggedError = summary(error);
  if (error instanceof Error && error.cause !== undefined) logged.cause = summary(error.cause);
  return logged;
}
