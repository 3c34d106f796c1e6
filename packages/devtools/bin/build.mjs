#!/usr/bin/env node
// `pnpm build` in an app (or a package with a command-line tool): bundles the entry points named in its
// package.json `"bundle"` field into `dist/<name>.js` with esbuild, for `node dist/<name>.js` in production.
//
//   "bundle": { "entries": ["src/server.ts"], "assets": { "src/graphql/schema.graphql": "schema.graphql" } }
//
// The workspace packages (`@ttc/*`, TypeScript sources) are compiled into the bundle; every other package stays an
// import that Node resolves from the package's own node_modules at run time, so each one the bundle imports must be
// among the package's `dependencies` (checked here: pnpm links nothing else next to the package). Files the code
// reads at run time with `new URL('./x', import.meta.url)` are copied next to the bundle under `assets`.
// Development keeps running the TypeScript sources (tsx, Vitest): nothing here changes how they resolve.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { build } from 'esbuild';

const packageDir = process.cwd();
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const config = manifest.bundle;
if (!config?.entries?.length) {
  console.error(`${manifest.name}: no "bundle.entries" in package.json`);
  process.exit(2);
}

/** The package a bare import specifier names (`@scope/name/sub` → `@scope/name`). */
function packageNameOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const builtins = new Set(builtinModules);
const isBuiltin = (specifier) => specifier.startsWith('node:') || builtins.has(packageNameOf(specifier));

const outdir = join(packageDir, 'dist');
rmSync(outdir, { recursive: true, force: true });
const started = performance.now();
const result = await build({
  absWorkingDir: packageDir,
  entryPoints: Object.fromEntries(config.entries.map((entry) => [basename(entry).replace(/\.ts$/, ''), entry])),
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Shared code of several entries goes to chunks instead of being copied into each.
  splitting: config.entries.length > 1,
  metafile: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'external-dependencies',
      setup(b) {
        // Anything that is neither relative, absolute nor one of ours is loaded from node_modules at run time.
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@ttc/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});

const declared = new Set(Object.keys(manifest.dependencies ?? {}));
const undeclared = new Set();
for (const output of Object.values(result.metafile.outputs)) {
  for (const imported of output.imports) {
    if (!imported.external || isBuiltin(imported.path)) continue;
    const name = packageNameOf(imported.path);
    if (!declared.has(name)) undeclared.add(name);
  }
}
if (undeclared.size > 0) {
  console.error(
    `${manifest.name}: the bundle imports ${[...undeclared].join(', ')}, which ${undeclared.size === 1 ? 'is' : 'are'} ` +
      'not among its dependencies; add them to package.json "dependencies" (same versions as the workspace package ' +
      'that uses them) so that Node finds them next to dist/ at run time.',
  );
  process.exit(1);
}

for (const [from, to] of Object.entries(config.assets ?? {})) {
  const source = join(packageDir, from);
  if (!existsSync(source)) {
    console.error(`${manifest.name}: asset ${from} does not exist`);
    process.exit(1);
  }
  mkdirSync(dirname(join(outdir, to)), { recursive: true });
  cpSync(source, join(outdir, to), { recursive: true });
}

const ms = Math.round(performance.now() - started);
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
console.log(`${manifest.name}: ${files.map((f) => f.replace(/^.*dist\//, 'dist/')).join(', ')} (${ms} ms)`);
