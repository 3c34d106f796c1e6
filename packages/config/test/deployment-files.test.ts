// The Dockerfile and the compose files, checked without Docker: what the image starts is what `pnpm build` emits,
// and the compose files agree with the settings `loadConfig` reads and with production defaults.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CONFIG_DEFAULTS, CONFIG_VARIABLES, SANDBOX_CONFIG_VARIABLES } from '../src/index.js';

const root = join(import.meta.dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile → stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const [from = '', , name] = args.split(/\s+/);
      stages.push({ from, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

const execForm = (args: string): string[] => JSON.parse(args.replace(/^--[a-z-]+=\S+\s+/g, '')) as string[];

interface BundledPackage {
  dir: string;
  dependencies: Record<string, string>;
  bundle?: { entries: string[]; assets?: Record<string, string> };
}
/** What `pnpm build` (packages/devtools/bin/build.mjs) writes: dist/<entry basename>.js per bundle entry. */
function builtFiles(): Map<string, BundledPackage> {
  const files = new Map<string, BundledPackage>();
  for (const dir of [
    'apps/gateway',
    'apps/admin',
    'apps/worker',
    'apps/tiktok-sandbox',
    'packages/db',
    'packages/accounts',
  ]) {
    const manifest = JSON.parse(read(`${dir}/package.json`)) as BundledPackage;
    for (const entry of manifest.bundle?.entries ?? []) {
      files.set(`${dir}/dist/${basename(entry, '.ts')}.js`, { ...manifest, dir });
    }
  }
  return files;
}

type Service = {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  image?: string;
};
type Compose = { services: Record<string, Service> };
const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as Compose;
const sandboxOverride = parseYaml(read('docker-compose.sandbox.yml'), { merge: true }) as Compose;

const appPorts: Record<string, keyof typeof CONFIG_DEFAULTS> = {
  gateway: 'GATEWAY_PORT',
  admin: 'ADMIN_PORT',
  worker: 'WORKER_METRICS_PORT',
  sandbox: 'SANDBOX_PORT',
};
const ownImage = (service: Service) => service.image?.includes('tiktok-multi-connect') ?? false;
const containerPort = (mapping: string) => Number(mapping.split(':').at(-1));

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const build = stages.find((s) => s.name === 'build')!;
  const runtime = stages.at(-1)!;

  it('starts a file that pnpm build emits, through node under tini, as a non-root user', () => {
    const cmd = execForm(runtime.instructions.find((i) => i.op === 'CMD')!.args);
    const entrypoint = execForm(runtime.instructions.find((i) => i.op === 'ENTRYPOINT')!.args);
    expect(entrypoint[0]).toMatch(/tini$/);
    expect(cmd[0]).toBe('node');
    expect(builtFiles().has(cmd[1]!)).toBe(true);
    const user = runtime.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)$/);
  });

  it('copies into the runtime stage the dist, node_modules and manifest of every package compose starts', () => {
    const projects = (/RUNTIME_PROJECTS="([^"]+)"/.exec(build.instructions.map((i) => i.args).join('\n'))?.[1] ?? '')
      .split(/\s+/)
      .filter(Boolean);
    const assemble = build.instructions.find((i) => i.op === 'RUN' && i.args.includes('mkdir /runtime'))?.args ?? '';
    expect(assemble).toContain('cp -a --parents package.json node_modules prisma/migrations docker/healthcheck.mjs');
    expect(assemble).toContain('for project in $RUNTIME_PROJECTS');
    expect(assemble).toContain('"$project/package.json" "$project/node_modules" "$project/dist"');
    expect(assemble).toContain('docker/prune-node-modules.mjs . $RUNTIME_PROJECTS');
    expect(runtime.instructions.some((i) => i.op === 'COPY' && i.args === '--from=build /runtime ./')).toBe(true);
    const started = [compose, sandboxOverride].flatMap((c) =>
      Object.values(c.services)
        .filter((s) => s.command?.[0] === 'node')
        .map((s) => s.command?.[1] ?? ''),
    );
    for (const file of started) expect(projects, file).toContain(builtFiles().get(file)?.dir);
  });

  it('copies the run-time assets next to the bundle that reads them', () => {
    const admin = JSON.parse(read('apps/admin/package.json')) as BundledPackage;
    // apps/admin reads new URL('./schema.graphql' | './assets/console.js', import.meta.url) from its bundle.
    expect(admin.bundle?.assets).toEqual({
      'src/graphql/schema.graphql': 'schema.graphql',
      'src/console/assets': 'assets',
    });
    for (const from of Object.keys(admin.bundle?.assets ?? {}))
      expect(existsSync(join(root, 'apps/admin', from))).toBe(true);
  });

  it('installs from the lockfile before copying the sources, so a source change reuses the install layer', () => {
    const index = (predicate: (i: Instruction) => boolean) => build.instructions.findIndex(predicate);
    const lockfile = index((i) => i.op === 'COPY' && i.args.includes('pnpm-lock.yaml'));
    const install = index((i) => i.op === 'RUN' && /pnpm (fetch|install) --frozen-lockfile/.test(i.args));
    const sources = index((i) => i.op === 'COPY' && i.args === '. .');
    const buildRun = index((i) => i.op === 'RUN' && i.args.includes('pnpm build'));
    expect(lockfile).toBeGreaterThanOrEqual(0);
    expect(lockfile).toBeLessThan(install);
    expect(install).toBeLessThan(sources);
    expect(sources).toBeLessThan(buildRun);
    expect(runtime.instructions.some((i) => i.op === 'RUN' && i.args.includes('pnpm'))).toBe(false);
  });

  it('copies the manifest of every workspace package before the frozen install (each is an importer of the lockfile)', () => {
    const install = build.instructions.findIndex(
      (i) => i.op === 'RUN' && i.args.includes('pnpm install --frozen-lockfile'),
    );
    const copied = new Set(
      build.instructions
        .slice(0, install)
        .filter((i) => i.op === 'COPY')
        .flatMap((i) => i.args.split(/\s+/))
        .filter((arg) => arg.endsWith('/package.json')),
    );
    const workspace = ['apps', 'packages'].flatMap((parent) =>
      readdirSync(join(root, parent))
        .map((name) => `${parent}/${name}/package.json`)
        .filter((file) => existsSync(join(root, file))),
    );
    expect(workspace.length).toBeGreaterThan(10);
    expect(workspace.filter((file) => !copied.has(file))).toEqual([]);
  });

  it('exposes the default ports and has a health check', () => {
    const exposed = runtime.instructions
      .filter((i) => i.op === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/).map(Number));
    expect(exposed.sort()).toEqual(
      Object.values(appPorts)
        .map((v) => CONFIG_DEFAULTS[v])
        .sort(),
    );
    expect(runtime.instructions.some((i) => i.op === 'HEALTHCHECK')).toBe(true);
  });

  it('keeps secrets, tests and local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env', '.env.*', '.git', '.dev', 'node_modules', '**/test', 'test-results', '.ci']) {
      expect(ignored, entry).toContain(entry);
    }
    expect(ignored.some((l) => l.includes('bench'))).toBe(true);
  });
});

describe('docker-compose.yml', () => {
  const known = new Set<string>([...CONFIG_VARIABLES, ...SANDBOX_CONFIG_VARIABLES]);
  const appServices = (c: Compose) => Object.entries(c.services).filter(([, s]) => ownImage(s) || s.command);

  it('sets only variables the configuration reads', () => {
    for (const c of [compose, sandboxOverride]) {
      for (const [name, service] of appServices(c)) {
        for (const variable of Object.keys(service.environment ?? {})) {
          expect(known.has(variable), `${name}: ${variable}`).toBe(true);
        }
      }
    }
  });

  it('runs production by default, development only in the sandbox override', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const nodeEnv = service.environment?.NODE_ENV;
      if (ownImage(service)) expect(nodeEnv, name).toBe(['${', 'NODE_ENV:-production}'].join(''));
      expect(JSON.stringify(service), name).not.toContain('development');
      expect(service.command?.[0] ?? 'node', name).not.toMatch(/pnpm|tsx/);
    }
    expect(compose.services.sandbox).toBeUndefined();
    expect(sandboxOverride.services.sandbox?.command?.[1]).toBe('apps/tiktok-sandbox/dist/server.js');
    expect(sandboxOverride.services.gateway?.environment?.NODE_ENV).toBe('development');
  });

  it('publishes no database port, and app ports only on an address the user chose (loopback by default)', () => {
    for (const c of [compose, sandboxOverride]) {
      for (const name of ['postgres', 'redis']) {
        for (const mapping of c.services[name]?.ports ?? []) expect(mapping).toMatch(/^127\.0\.0\.1:/);
      }
      for (const [name, service] of Object.entries(c.services)) {
        for (const mapping of service.ports ?? []) {
          expect(mapping, name).toMatch(/^(127\.0\.0\.1|\$\{[A-Z_]+:-127\.0\.0\.1\}):/);
        }
      }
    }
  });

  it('maps, health-checks and starts every app on its configured port', () => {
    const services: Record<string, Service> = { ...compose.services, sandbox: sandboxOverride.services.sandbox! };
    for (const [name, variable] of Object.entries(appPorts)) {
      const service = services[name]!;
      const port = CONFIG_DEFAULTS[variable] as number;
      expect(service.environment?.[variable], `${name} keeps the default ${variable}`).toBeUndefined();
      expect((service.ports ?? []).map(containerPort), name).toEqual([port]);
      expect(service.healthcheck?.test?.join(' '), name).toContain(`http://127.0.0.1:${port}/`);
      expect(builtFiles().has(service.command?.[1] ?? ''), name).toBe(true);
    }
  });

  it('starts the apps after the one-shot migration, which runs the compiled migrate command', () => {
    expect(builtFiles().has(compose.services.migrate?.command?.[1] ?? '')).toBe(true);
    for (const name of ['gateway', 'worker', 'admin']) {
      expect(compose.services[name]?.depends_on?.migrate?.condition, name).toBe('service_completed_successfully');
    }
  });

  it('runs Redis with persistence and noeviction', () => {
    const command = compose.services.redis?.command?.join(' ') ?? '';
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(command).toContain('--appendonly yes');
  });

  it('takes every URL and secret from .env, each documented in .env.example', () => {
    const example = read('.env.example');
    const interpolated = new Set([...read('docker-compose.yml').matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]!));
    for (const variable of interpolated) expect(example, variable).toMatch(new RegExp(`^#? ?${variable}=`, 'm'));
    for (const [name, service] of appServices(compose)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (/URL|KEY|SECRET|TOKEN/.test(variable)) expect(value, `${name}: ${variable}`).toMatch(/^\$\{/);
      }
    }
  });
});
