/**
 * Throughput of encrypt+decrypt round-trips for a TikTok-sized token.
 * Run: `pnpm exec tsx packages/crypto/bench.ts` (from the repo root). Optional: BENCH_SECONDS (default 2).
 */
import { decryptToken, encryptToken, generateKeyringEntry, parseKeyring } from './src/index.js';

// A bench script is a dev tool, not a service: reading its own knob here keeps it out of packages/config.
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const setting = `${generateKeyringEntry('new')},${generateKeyringEntry('old')}`;
const keyring = parseKeyring(setting);
const token = `act.${'x'.repeat(68)}`; // TikTok access tokens are ~72 characters
const aad = 'tiktok:3f1c2a9e-5b7d-4e0a-9c8b-1d2e3f4a5b6c:_000abcDEF123ghiJKL456mnoPQR';

function measure(label: string, roundTrip: () => void): number {
  for (let i = 0; i < 5_000; i++) roundTrip(); // warm-up: JIT and OpenSSL context caches
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1_000; i++) roundTrip();
    ops += 1_000;
    now = process.hrtime.bigint();
  }
  const perSecond = ops / (Number(now - start) / 1e9);
  console.log(`${label.padEnd(46)} ${Math.round(perSecond).toLocaleString('en-US').padStart(10)} ops/s`);
  return perSecond;
}

console.log(`node ${process.version}, ${seconds}s per case, ${token.length}-char token`);
measure('encrypt+decrypt (cached keyring)', () => {
  if (decryptToken(keyring, encryptToken(keyring, token, aad), aad) !== token) throw new Error('round-trip failed');
});
measure('encrypt only', () => {
  encryptToken(keyring, token, aad);
});
const ciphertext = encryptToken(keyring, token, aad);
measure('decrypt only', () => {
  decryptToken(keyring, ciphertext, aad);
});
measure('encrypt+decrypt, keyring re-parsed every op', () => {
  const fresh = parseKeyring(setting);
  decryptToken(fresh, encryptToken(fresh, token, aad), aad);
});
