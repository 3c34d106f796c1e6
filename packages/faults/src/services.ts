// The product's processes of one fault run (sandbox, admin, gateway, two workers), started as `pnpm start` does; its
// private Redis and PostgreSQL come from @ttc/testing (startPrivateRedis / startPrivatePostgres).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type ServiceProcess, startServiceProcess, waitForHttp } from '@ttc/testing';

export const root = fileURLToPath(new URL('../../..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

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
