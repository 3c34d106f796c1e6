#!/usr/bin/env node
// Container health check (no curl in the slim image): exit 0 when the URL answers 2xx within 2 s, else 1.
//   node docker/healthcheck.mjs http://127.0.0.1:3000/readyz
const url = process.argv[2] ?? 'http://127.0.0.1:3000/readyz';
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
