#!/usr/bin/env node
// Builds the browser SDK with esbuild: `dist/index.js` (ESM, for bundlers and `import`), `dist/connect.global.js`
// (a script-tag build defining `window.TikTokConnect`, which the gateway serves at `/sdk/connect.js`) and, with tsc,
// `dist/index.d.ts`. `buildConnectSdk({ write: false })` returns the script-tag build in memory: the gateway uses it
// when it runs from its TypeScript sources (development, tests) and no built file is there.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageDir = dirname(fileURLToPath(import.meta.url));
const entry = join(packageDir, 'src', 'index.ts');
const common = { entryPoints: [entry], bundle: true, target: ['es2019', 'safari13'], logLevel: 'warning' };

/** The script-tag build (IIFE, global `TikTokConnect`); written to dist/ unless `write` is false. */
export async function buildConnectSdk({ write = true } = {}) {
  const result = await build({
    ...common,
    format: 'iife',
    globalName: 'TikTokConnect',
    minify: true,
    banner: { js: '/* @ttc/connect-js: opens the TikTok connect popup. window.TikTokConnect.openTikTokConnect */' },
    ...(write ? { outfile: join(packageDir, 'dist', 'connect.global.js') } : { write: false, outfile: 'connect.js' }),
  });
  return write ? undefined : result.outputFiles[0].text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  await build({ ...common, format: 'esm', outfile: join(packageDir, 'dist', 'index.js') });
  await buildConnectSdk();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(packageDir, 'tsconfig.build.json')], { stdio: 'inherit' });
  const ms = Math.round(performance.now() - started);
  console.log(`@ttc/connect-js: dist/index.js, dist/index.d.ts, dist/connect.global.js (${ms} ms)`);
}
