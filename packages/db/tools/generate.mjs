// `pnpm db:generate`: `prisma generate`, offline too.
// Prisma's CLI first makes sure its native schema engine is present and tries to download it when it is not, which
// fails without a network. Generating the client does not use that engine: pointing PRISMA_SCHEMA_ENGINE_BINARY at
// any existing file skips the download. A value the user set is left alone.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const prismaCli = join(dirname(require.resolve('prisma/package.json')), 'build/index.js');

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ||= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE ||= '1';

const result = spawnSync(process.execPath, [prismaCli, 'generate', ...process.argv.slice(2)], {
  cwd: packageDir,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
