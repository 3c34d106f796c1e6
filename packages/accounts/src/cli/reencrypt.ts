// `pnpm tokens:reencrypt [--dry-run] [--batch-size N]`: moves every stored token to the primary key of
// TOKEN_ENCRYPTION_KEYS (step 3 of the key rotation in packages/accounts/README.md) and to the current associated
// data (tiktok/v2, from the legacy tiktok:<userId>:<openId>). Exit code 0 when no row failed.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@ttc/config';
import { isCryptoError, parseKeyring } from '@ttc/crypto';
import { createPrismaClient } from '@ttc/db';
import { type ReencryptStoredTokensProgress, reencryptStoredTokens } from '../reencrypt.js';

const usage = `Usage: pnpm tokens:reencrypt [--dry-run] [--batch-size N]

Re-encrypts every stored TikTok token that is not under the first key of TOKEN_ENCRYPTION_KEYS
or not bound to its account by the current associated data (tiktok/v2).
  --dry-run        decrypt and count what would change; write nothing
  --batch-size N   rows per batch (default 500)
Exit code 0 when every row could be decrypted, 1 otherwise (the failed account ids are printed).`;

const number = new Intl.NumberFormat('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rate = (rows: number, ms: number) => `${number.format(Math.round(rows / Math.max(ms / 1000, 0.001)))} rows/s`;

function progressLine(p: Readonly<ReencryptStoredTokensProgress>, dryRun: boolean): string {
  return [
    `batch ${p.batch}: ${number.format(p.scanned)} / ${number.format(p.total)} rows scanned`,
    `${number.format(p.reencrypted)} ${dryRun ? 'to re-encrypt' : 're-encrypted'}`,
    `${number.format(p.skippedChanged)} changed meanwhile`,
    `${number.format(p.failed)} failed`,
    seconds(p.elapsedMs),
    rate(p.scanned, p.elapsedMs),
  ].join(', ');
}

const options = {
  'dry-run': { type: 'boolean', default: false },
  'batch-size': { type: 'string', default: '500' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    // pnpm passes a lone `--` through when called as `pnpm tokens:reencrypt -- --dry-run`.
    args = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  const batchSize = Number(args['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    console.error(`--batch-size must be a whole number from 1 to 10000\n\n${usage}`);
    return 2;
  }
  const dryRun = args['dry-run'];

  const config = loadConfig({ service: 'cli', alsoRequire: ['TOKEN_ENCRYPTION_KEYS'] });
  const keyring = parseKeyring(config.tokenEncryptionKeys);
  // Key ids are not secret; they tell the operator which key is the target and which ones can still be read.
  console.log(
    `${dryRun ? 'Dry run: counting' : 'Re-encrypting'} stored tokens under key "${keyring.primaryKeyId}" ` +
      `(keys in TOKEN_ENCRYPTION_KEYS: ${keyring.keyIds.join(', ')}; batches of ${batchSize})`,
  );

  const prisma = createPrismaClient(config.databaseUrl, { poolSize: 2 });
  try {
    const failedIds: string[] = [];
    const report = await reencryptStoredTokens(
      {
        prisma,
        keyring,
        logger: {
          info: () => undefined,
          warn: (obj) => {
            const { accountId, field, code } = obj as { accountId?: string; field?: string; code?: string };
            if (accountId) failedIds.push(accountId);
            console.error(`  account ${accountId}: ${code} (${field}); it cannot be re-encrypted`);
          },
          error: (obj, msg) => console.error(msg ?? 'error', obj),
        },
      },
      { batchSize, dryRun, onProgress: (p) => console.log(progressLine(p, dryRun)) },
    );
    const total = report.scanned;
    console.log(
      `${dryRun ? 'Dry run done' : 'Done'}: ${number.format(total)} rows with tokens scanned, ` +
        `${number.format(report.reencrypted)} ${dryRun ? 'would be re-encrypted' : 're-encrypted'}, ` +
        `${number.format(report.skippedChanged)} changed meanwhile (already under the new key), ` +
        `${number.format(report.failed)} failed.`,
    );
    if (report.failed > 0) {
      console.error(
        `${report.failed} account(s) decrypt under no key in TOKEN_ENCRYPTION_KEYS: ${failedIds.join(', ')}. ` +
          'If a key was removed too early, put it back (second position) and run again; otherwise these accounts ' +
          'must reconnect. Keep the old key until this reports 0 failed.',
      );
      return 1;
    }
    if (!dryRun)
      console.log(`Every stored token is under key "${keyring.primaryKeyId}" and the tiktok/v2 associated data.`);
    return 0;
  } finally {
    await prisma.$disconnect();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Config and keyring errors name variables and key ids, never values; other errors print name and message only.
    if (error instanceof ConfigError) console.error(error.message);
    else if (isCryptoError(error)) console.error(`${error.code}: ${error.message}`);
    else console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    process.exitCode = 1;
  },
);
