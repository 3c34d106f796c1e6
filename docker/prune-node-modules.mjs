#!/usr/bin/env node
// Used by the Dockerfile after `pnpm install --prod`: keeps in node_modules/.pnpm only the packages that the given
// workspace projects' `dependencies` reach through `dependencies` and `optionalDependencies`, then drops files Node
// never loads at run time.
//
//   node docker/prune-node-modules.mjs <workspace root> <project dir>…
//
// Why: pnpm resolves *optional peer* dependencies from the workspace. @prisma/client declares `prisma` and
// `typescript` as optional peers, so even a production install links the Prisma CLI (with Prisma Studio, React,
// effect, PGlite…) and TypeScript next to it: about 200 MB the running apps never import. Also removed: source maps,
// TypeScript declarations, and the Prisma query compilers of databases other than PostgreSQL.
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

const [rootArg, ...projects] = process.argv.slice(2);
if (!rootArg || projects.length === 0) {
  console.error('usage: prune-node-modules.mjs <workspace root> <project dir>…');
  process.exit(2);
}
const root = resolve(rootArg);
const store = join(root, 'node_modules', '.pnpm');

const readManifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Node's lookup of a bare package name from a directory: the nearest node_modules/<name> upwards. */
function lookup(from, name) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** The `.pnpm/<id>` entry a package directory lives in, or undefined outside the store (a workspace project). */
function storeEntryOf(dir) {
  if (!dir.startsWith(store + sep)) return undefined;
  return dir.slice(store.length + 1).split(sep)[0];
}

const kept = new Set();
const seen = new Set();
const pending = [];
for (const project of projects) {
  const dir = resolve(root, project);
  for (const name of Object.keys(readManifest(dir).dependencies ?? {})) pending.push([dir, name]);
}
while (pending.length > 0) {
  const [from, name] = pending.pop();
  const dir = lookup(from, name);
  if (!dir || seen.has(dir)) continue;
  seen.add(dir);
  const entry = storeEntryOf(dir);
  if (entry) kept.add(entry);
  const manifest = readManifest(dir);
  // Peer dependencies are the dependent's business: the ones a running app needs are among its own dependencies.
  for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
    pending.push([dir, dep]);
  }
}

let removedEntries = 0;
for (const entry of readdirSync(store)) {
  if (entry === 'node_modules' || entry.endsWith('.yaml') || kept.has(entry)) continue;
  rmSync(join(store, entry), { recursive: true, force: true });
  removedEntries++;
}

const droppedFile = (name) =>
  name.endsWith('.map') ||
  name.endsWith('.d.ts') ||
  name.endsWith('.d.mts') ||
  name.endsWith('.d.cts') ||
  // The generated client loads the PostgreSQL query compiler only.
  /^query_compiler_(fast|small)_bg\.(mysql|sqlite|sqlserver|cockroachdb)\./.test(name) ||
  /^wasm-compiler-edge\./.test(name);
let removedFiles = 0;
function strip(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !lstatSync(path).isSymbolicLink()) strip(path);
    else if (entry.isFile() && droppedFile(entry.name)) {
      rmSync(path);
      removedFiles++;
    }
  }
}
strip(store);
console.log(
  `kept ${kept.size} packages, removed ${removedEntries} that no production dependency reaches and ${removedFiles} files`,
);
