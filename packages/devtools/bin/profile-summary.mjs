#!/usr/bin/env node
// `node packages/devtools/bin/profile-summary.mjs <file.cpuprofile> [from-s] [to-s] [top=25]`: where the busy time
// of a V8 CPU profile (`node --cpu-prof`, or a bench's BENCH_PROFILE=1) goes, by package and by function (self
// time), optionally only between two moments (seconds from the profile's start). Idle time is left out; system calls
// (writev, write, read) and the garbage collector appear under their own names.
import { readFileSync } from 'node:fs';

const [file, fromArg, toArg, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary.mjs <file.cpuprofile> [from-s] [to-s] [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const from = Number(fromArg ?? 0) * 1e6;
const to = Number(toArg ?? Number.POSITIVE_INFINITY) * 1e6;
const top = Number(topArg ?? 25);
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));

/** The package (pnpm store name without version), the workspace folder, or the Node module a frame belongs to. */
function bucket({ url, functionName }) {
  if (!url) return `(${functionName || 'native'})`;
  const store = /node_modules\/\.pnpm\/([^/]+)\//.exec(url);
  if (store) {
    // `@scope+name@version_peers…` or `name@version…`
    const cut = store[1].indexOf('@', 1);
    return (cut > 0 ? store[1].slice(0, cut) : store[1]).replace('+', '/');
  }
  const workspace = /\/((?:apps|packages)\/[^/]+)\//.exec(url);
  if (workspace) return workspace[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url.slice(0, 60);
}

let at = 0;
let busy = 0;
const byBucket = new Map();
const byFunction = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  at += dt;
  if (at < from || at > to) continue;
  const frame = nodes.get(profile.samples[i]).callFrame;
  if (frame.functionName === '(idle)' || frame.functionName === '(program)') continue;
  busy += dt;
  const b = bucket(frame);
  byBucket.set(b, (byBucket.get(b) ?? 0) + dt);
  const f = `${frame.functionName || '(anonymous)'}  [${b}${frame.url ? `:${frame.lineNumber + 1}` : ''}]`;
  byFunction.set(f, (byFunction.get(f) ?? 0) + dt);
}
const pct = (x) => `${((100 * x) / busy).toFixed(1).padStart(5)} %`;
console.log(`busy ${(busy / 1000).toFixed(0)} ms (self time; idle left out)\n\nby package:`);
for (const [k, v] of [...byBucket].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`);
console.log('\nby function:');
for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`);
