// The private data services of one fault run (a Redis and a PostgreSQL cluster of its own, on free ports, in a
// temporary folder) and the product's processes (sandbox, admin, gateway, two workers) started as `pnpm start` does.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, type ServiceProcess, startServiceProcess, waitForHttp } from '@ttc/testing';

const run = promisify(execFile);
export const root = fileURLToPath(new URL('../../..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** A Redis of this run's own, append-only so that a restart keeps its data (FLUSHALL is the data-loss case). */
export class PrivateRedis {
  private process: ServiceProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(dir: string): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), join(dir, 'redis'));
    mkdirSync(redis.dir, { recursive: true });
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private cli(...args: string[]) {
    return run('redis-cli', ['-p', String(this.port), ...args]);
  }

  async up(): Promise<void> {
    this.process = startServiceProcess({
      name: 'redis',
      command: 'redis-server',
      args: [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--maxmemory-policy',
        'noeviction',
        '--dir',
        this.dir,
      ],
      cwd: this.dir,
      env: { PATH: process.env.PATH },
    });
    await until(async () => (await this.cli('ping')).stdout.trim() === 'PONG', 'redis ping');
  }

  /** SIGTERM (Redis writes its append-only file and exits). */
  async down(): Promise<void> {
    await this.process?.stop('SIGTERM', 10_000);
  }

  async flushAll(): Promise<void> {
    await this.cli('flushall');
  }

  async stop(): Promise<void> {
    this.process?.kill();
    await this.process?.exited;
  }
}

/** Where the PostgreSQL server binaries are: on PATH, else Debian's /usr/lib/postgresql/<newest>/bin. */
function pgBin(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) if (existsSync(join(dir, name))) return join(dir, name);
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', name))) return join(base, v, 'bin', name);
  throw new Error(`${name} not found (install the postgresql package)`);
}

/** A PostgreSQL cluster of this run's own (initdb into the run's folder; as the postgres user when run as root). */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly asUser: string | null,
  ) {}

  static async start(dir: string): Promise<PrivatePostgres> {
    const pgDir = join(dir, 'postgres');
    mkdirSync(pgDir, { recursive: true });
    // initdb refuses to run as root: the server then runs as the machine's postgres user, owner of its folder.
    const asUser = process.getuid?.() === 0 ? 'postgres' : null;
    if (asUser) {
      const uid = Number(execFileSync('id', ['-u', asUser]).toString().trim());
      const gid = Number(execFileSync('id', ['-g', asUser]).toString().trim());
      chownSync(dir, uid, gid);
      chownSync(pgDir, uid, gid);
    }
    const pg = new PrivatePostgres(await freePort(), pgDir, asUser);
    await pg.exec('initdb', ['-D', join(pgDir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await pg.ctl('start');
    return pg;
  }

  url(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private exec(name: string, args: string[]) {
    const bin = pgBin(name);
    return this.asUser ? run('runuser', ['-u', this.asUser, '--', bin, ...args]) : run(bin, args);
  }

  /** `pg_ctl <action>` (start, stop, restart) with this cluster's options, waiting for it to finish. */
  async ctl(action: 'start' | 'stop' | 'restart'): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=300',
    ].join(' ');
    await this.exec('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'server.log'),
      '-o',
      options,
      '-m',
      'fast',
      '-w',
      action,
    ]);
  }

  async stop(): Promise<void> {
    await this.ctl('stop').catch(() => undefined);
  }
}

export type AppName = 'sandbox' | 'admin' | 'gateway' | 'worker-1' | 'worker-2';

const ENTRY: Record<AppName, { dir: string; entry: string; health: (ports: StackPorts) => string }> = {
  sandbox: {
    dir: 'tiktok-sandbox',
    entry: 'src/server.ts',
    health: (p) => `http://127.0.0.1:${p.sandbox}/__sandbox/users`,
  },
  admin: { dir: 'admin', entry: 'src/server.ts', health: (p) => `http://127.0.0.1:${p.admin}/healthz` },
  gateway: { dir: 'gateway', entry: 'src/server.ts', health: (p) => `http://127.0.0.1:${p.gateway}/healthz` },
  'worker-1': { dir: 'worker', entry: 'src/main.ts', health: (p) => `http://127.0.0.1:${p.worker1}/healthz` },
  'worker-2': { dir: 'worker', entry: 'src/main.ts', health: (p) => `http://127.0.0.1:${p.worker2}/healthz` },
};

export interface StackPorts {
  sandbox: number;
  admin: number;
  gateway: number;
  worker1: number;
  worker2: number;
}

/** The product's processes, each started by tsx from its app folder (what `pnpm start` / `pnpm dev` run). */
export class Stack {
  readonly processes = new Map<AppName, ServiceProcess>();
  /** Every process that ever ran, for the output printed when a check fails. */
  readonly history: ServiceProcess[] = [];

  constructor(
    readonly ports: StackPorts,
    private readonly env: Record<string, string>,
  ) {}

  static async create(env: Record<string, string>): Promise<Stack> {
    const [sandbox, admin, gateway, worker1, worker2] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
    return new Stack({ sandbox, admin, gateway, worker1, worker2 } as StackPorts, env);
  }

  get gatewayUrl(): string {
    return `http://localhost:${this.ports.gateway}`;
  }
  get adminUrl(): string {
    return `http://127.0.0.1:${this.ports.admin}`;
  }
  get sandboxUrl(): string {
    return `http://127.0.0.1:${this.ports.sandbox}`;
  }

  secrets(): { gatewayApiKey: string; adminApiToken: string } {
    return JSON.parse(readFileSync(this.env.DEV_SECRETS_FILE as string, 'utf8'));
  }

  /** Starts one app and waits for its health route. */
  async start(name: AppName): Promise<ServiceProcess> {
    const app = ENTRY[name];
    const metricsPort = name === 'worker-2' ? this.ports.worker2 : this.ports.worker1;
    const service = startServiceProcess({
      name,
      command: tsx,
      args: [app.entry],
      cwd: join(root, 'apps', app.dir),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TMPDIR: process.env.TMPDIR,
        ...this.env,
        GATEWAY_PORT: String(this.ports.gateway),
        ADMIN_PORT: String(this.ports.admin),
        SANDBOX_PORT: String(this.ports.sandbox),
        WORKER_METRICS_PORT: String(metricsPort),
      },
    });
    this.processes.set(name, service);
    this.history.push(service);
    await waitForHttp(app.health(this.ports), { service, timeoutMs: 60_000, accept: (r) => r.ok });
    return service;
  }

  /** SIGKILL to the app's whole process group, waiting for it to be gone. */
  async kill(name: AppName): Promise<void> {
    const service = this.processes.get(name);
    service?.kill();
    await service?.exited;
  }

  async stopAll(): Promise<void> {
    for (const service of this.processes.values()) service.kill();
    await Promise.all([...this.processes.values()].map((s) => s.exited));
  }

  /** The last lines of every process's output (when a check fails). */
  tails(lines = 15): string {
    return this.history
      .map(
        (s) =>
          `----- ${s.name} (pid ${s.child.pid}) -----\n${s.output().trimEnd().split('\n').slice(-lines).join('\n')}`,
      )
      .join('\n');
  }
}
