import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Signals and process.exit need a process of their own: each case runs fixtures/shutdown-child.ts.
const packageDir = fileURLToPath(new URL('..', import.meta.url));

interface Line {
  level: string;
  message: string;
  [field: string]: unknown;
}

function startChild(mode: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/shutdown-child.ts'], {
    cwd: packageDir,
    env: { PATH: process.env.PATH, MODE: mode },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Line[] = [];
  const waiters: { message: string; resolve: () => void }[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts.filter((p) => p.trim())) {
      const line = JSON.parse(part) as Line;
      lines.push(line);
      for (const w of waiters.filter((x) => x.message === line.message)) w.resolve();
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (message: string) =>
    lines.some((l) => l.message === message)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ message, resolve }));
  return { child, lines, exited, waitFor, messages: () => lines.map((l) => l.message) };
}

describe('shutdownOnSignals', { timeout: 20_000 }, () => {
  it('runs the steps in order on SIGTERM, numbering them, and exits 0', async () => {
    const p = startChild('clean');
    await p.waitFor('ready');
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.messages()).toEqual([
      'ready',
      'shutdown 1/3: first',
      'shutdown 2/3: second',
      'shutdown 3/3: third',
      'shutdown complete',
    ]);
    expect(p.lines[1]).toMatchObject({ signal: 'SIGTERM' });
    expect(p.lines[2]).toMatchObject({ mode: 'clean' });
    expect(p.lines[4]?.ms).toEqual(expect.any(Number));
  });

  it('runs the later steps when one fails, and exits 1', async () => {
    const p = startChild('fail');
    await p.waitFor('ready');
    p.child.kill('SIGINT');
    expect((await p.exited).code).toBe(1);
    expect(p.lines.find((l) => l.message === 'shutdown step failed')).toMatchObject({ step: 'first', err: 'boom' });
    expect(p.messages()).toContain('shutdown 3/3: third');
  });

  it('exits 2 (forced) at once on a second signal', async () => {
    const p = startChild('second-signal');
    await p.waitFor('ready');
    p.child.kill('SIGTERM');
    await p.waitFor('shutdown 2/3: second');
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(2);
    expect(p.lines.at(-1)).toMatchObject({ level: 'warn', message: 'second signal: exiting now', signal: 'SIGTERM' });
  });

  it('exits 2 (forced) when the steps outlast the timeout', async () => {
    const p = startChild('timeout');
    await p.waitFor('ready');
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(2);
    expect(p.lines.at(-1)).toMatchObject({ level: 'error', message: 'shutdown took too long, exiting', ms: 300 });
  });

  it('moves past a step that outlives its own deadline, runs the rest and exits 2 (forced)', async () => {
    const p = startChild('stuck-step');
    await p.waitFor('ready');
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(2);
    expect(p.lines.find((l) => l.message === 'shutdown step outlived its deadline; moving on')).toMatchObject({
      step: 'second',
      deadlineMs: 200,
    });
    expect(p.messages()).toContain('shutdown 3/3: third');
    expect(p.lines.at(-1)).toMatchObject({ message: 'shutdown complete', outcome: 'forced' });
  });

  it('exits 2 (forced) when a step says it had to abandon work', async () => {
    const p = startChild('forced-step');
    await p.waitFor('ready');
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(2);
    expect(p.lines.at(-1)).toMatchObject({ message: 'shutdown complete', outcome: 'forced' });
  });

  it('leaves other signals to Node', async () => {
    const p = startChild('clean');
    await p.waitFor('ready');
    p.child.kill('SIGHUP');
    expect(await p.exited).toEqual({ code: null, signal: 'SIGHUP' });
    expect(p.messages()).toEqual(['ready']);
  });
});
