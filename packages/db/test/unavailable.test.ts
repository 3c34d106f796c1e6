// Which Postgres errors mean "unavailable" (answered 503 by the apps), on real failures: a server that does not
// listen, a statement cut by statement_timeout; and one that does not (a constraint, a bug in the query).
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPrismaClient, isDatabaseUnavailable } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';

let db: TestDatabase;

/** A port nothing listens on. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

it('classifies a server that does not answer as unavailable (model query and raw query)', async () => {
  const prisma = createPrismaClient(`postgresql://postgres@127.0.0.1:${await freePort()}/nowhere`);
  try {
    const model = await prisma.socialAccount.count().catch((e: unknown) => e);
    const raw = await prisma.$queryRaw`SELECT 1`.catch((e: unknown) => e);
    expect(isDatabaseUnavailable(model)).toBe(true);
    expect(isDatabaseUnavailable(raw)).toBe(true);
  } finally {
    await prisma.$disconnect();
  }
});

it('cancels a statement past statementTimeoutMs, and classifies that as unavailable', async () => {
  const prisma = createPrismaClient(db.url, { statementTimeoutMs: 200 });
  try {
    const error = await prisma.$queryRaw`SELECT pg_sleep(5)`.catch((e: unknown) => e);
    expect(String(error)).toMatch(/statement timeout|57014/);
    expect(isDatabaseUnavailable(error)).toBe(true);
    // The session is still usable after the cancel.
    expect(await prisma.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  } finally {
    await prisma.$disconnect();
  }
});

it('does not classify the query’s own errors as unavailable', async () => {
  const syntax = await db.prisma.$queryRawUnsafe('SELEC 1').catch((e: unknown) => e);
  const missing = await db.prisma.$queryRawUnsafe('SELECT * FROM no_such_table').catch((e: unknown) => e);
  expect(isDatabaseUnavailable(syntax)).toBe(false);
  expect(isDatabaseUnavailable(missing)).toBe(false);
  expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
});
