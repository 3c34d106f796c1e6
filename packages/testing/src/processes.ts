import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * A TCP port nothing listens on right now (the OS picks it), for a child process that must be told its port up
 * front. Another process could take it before the child binds: good enough for tests, which fail loudly if so.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A service started as its own process, with its output kept for when a test fails. */
export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** stdout and stderr interleaved, the last `maxOutputBytes` of it. */
  output(): string;
  /** `undefined` while it runs. */
  exit(): ServiceExit | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ServiceExit>;
  /**
   * Sends `signal` (default SIGTERM) and waits up to `timeoutMs` (default 20 s) for the exit; resolves with the exit
   * and how long it took, or with `undefined` on timeout (the process is then still running: see {@link kill}).
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<(ServiceExit & { ms: number }) | undefined>;
  /** SIGKILL to the whole process group (a `tsx` parent and its node child alike). No-op once exited. */
  kill(): void;
}

export interface StartServiceOptions {
  /** Used in messages. */
  name: string;
  command: string;
  args?: string[];
  cwd: string;
  /** The whole environment of the child: nothing is inherited unless passed here. */
  env: Record<string, string | undefined>;
  /** Output kept for {@link ServiceProcess.output}. Default 256 KiB. */
  maxOutputBytes?: number;
}

/**
 * Starts a long-running service (an app's entry point) in its own process group, so that {@link ServiceProcess.kill}
 * also reaches the processes it spawns (`tsx` runs the app in a child node process).
 */
export function startServiceProcess(options: StartServiceOptions): ServiceProcess {
  const max = options.maxOutputBytes ?? 256 * 1024;
  const child = spawn(options.command, options.args ?? [], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > max) output = output.slice(output.length - max);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exit: ServiceExit | undefined;
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once('error', (error) => {
      append(Buffer.from(`\n[${options.name}] failed to start: ${error.message}\n`));
      exit = { code: null, signal: null };
      resolve(exit);
    });
  });
  const kill = () => {
    if (exit || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  return {
    name: options.name,
    child,
    output: () => output,
    exit: () => exit,
    exited,
    kill,
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      const started = performance.now();
      if (!exit) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      });
      const result = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      return result && { ...result, ms: Math.round(performance.now() - started) };
    },
  };
}

/**
 * Polls `url` until it answers with a status below 500 (or `accept` says yes), retrying connection errors.
 * Fails early, with the process's output, when `service` exits first; fails with its output after `timeoutMs`.
 */
export async function waitForHttp(
  url: string,
  options: { service?: ServiceProcess; timeoutMs?: number; accept?: (res: Response) => boolean } = {},
): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const accept = options.accept ?? ((res) => res.status < 500);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const exit = options.service?.exit();
    if (options.service && exit) {
      throw new Error(
        `${options.service.name} exited (code ${exit.code}, signal ${exit.signal}) before ${url} answered; output:\n${options.service.output()}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (accept(res)) return res;
      last = `HTTP ${res.status}`;
      await res.body?.cancel();
    } catch (error) {
      last = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : 'error';
    }
    if (Date.now() > deadline) {
      const tail = options.service ? `; ${options.service.name} output:\n${options.service.output()}` : '';
      throw new Error(`${url} did not answer within ${timeoutMs} ms (last: ${last})${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
