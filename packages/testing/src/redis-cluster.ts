import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ServiceProcess, startServiceProcess } from './processes.js';

const run = promisify(execFile);

/** A Redis Cluster of its own (masters only, no replicas), started from `redis-server` for one test file. */
export interface RedisCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…`: what `REDIS_URL` takes for a cluster. */
  url: string;
  ports: number[];
  /** Stops every node and deletes their files. */
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A node needs two ports, its own and its cluster bus (port + 10000): picks ports where both are free, in a range
 * where the bus port is valid.
 */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (ports.includes(port) || ports.includes(port + 10_000) || ports.includes(port - 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

/**
 * Starts `masters` `redis-server --cluster-enabled yes` nodes on free ports and joins them with
 * `redis-cli --cluster create` (slots spread evenly), then waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'ttc-redis-cluster-'));
  const ports = await clusterPorts(masters);
  const nodes: ServiceProcess[] = ports.map((port) =>
    startServiceProcess({
      name: `redis-cluster-${port}`,
      command: 'redis-server',
      args: [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '5000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      cwd: dir,
      env: { PATH: process.env.PATH },
    }),
  );
  const stop = async () => {
    for (const node of nodes) node.kill();
    await Promise.all(nodes.map((n) => Promise.race([n.exited, new Promise((r) => setTimeout(r, 5_000))])));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitFor(() => ping(port), `redis-server on ${port}`, nodes);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) await waitFor(() => clusterOk(port), `cluster_state:ok on ${port}`, nodes);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, ports, stop };
}

async function ping(port: number): Promise<boolean> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']).catch(() => ({ stdout: '' }));
  return stdout.trim() === 'PONG';
}

async function clusterOk(port: number): Promise<boolean> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']).catch(() => ({ stdout: '' }));
  return stdout.includes('cluster_state:ok');
}

async function waitFor(check: () => Promise<boolean>, what: string, nodes: ServiceProcess[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    const dead = nodes.find((n) => n.exit());
    if (dead) throw new Error(`${dead.name} exited: ${dead.output()}`);
    if (Date.now() > deadline) throw new Error(`Redis Cluster: no ${what} within 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
