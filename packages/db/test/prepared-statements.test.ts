import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, PREPARED_MARKER, preparedStatementNames } from '../src/client.js';
import type { PrismaClient } from '../src/generated/client.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';
import { sql } from './helpers.js';

describe('preparedStatementNames', () => {
  it('names a text the same way every time, and different texts differently', () => {
    const names = preparedStatementNames();
    const a = names({ sql: 'SELECT id FROM social_accounts WHERE id = $1' });
    expect(a).toMatch(/^ttc_[A-Za-z0-9_-]+$/);
    expect(names({ sql: 'SELECT id FROM social_accounts WHERE id = $1' })).toBe(a);
    expect(preparedStatementNames()({ sql: 'SELECT id FROM social_accounts WHERE id = $1' })).toBe(a);
    expect(names({ sql: 'SELECT open_id FROM social_accounts WHERE id = $1' })).not.toBe(a);
  });

  it('leaves texts with a * unnamed unless they carry the marker', () => {
    const names = preparedStatementNames();
    expect(names({ sql: 'SELECT * FROM social_accounts WHERE id = $1' })).toBeUndefined();
    expect(names({ sql: 'UPDATE social_accounts SET status = $1 RETURNING *' })).toBeUndefined();
    expect(names({ sql: `${PREPARED_MARKER} WITH u AS (UPDATE x SET y = 1 RETURNING *) SELECT id FROM u` })).toMatch(
      /^ttc_/,
    );
  });

  it('names at most `limit` texts; the ones named keep their names', () => {
    const names = preparedStatementNames(2);
    const first = names({ sql: 'SELECT 1' });
    const second = names({ sql: 'SELECT 2' });
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(names({ sql: 'SELECT 3' })).toBeUndefined();
    expect(names({ sql: 'SELECT 1' })).toBe(first);
  });
});

describe('createPrismaClient with prepared statements', () => {
  let db: TestDatabase;
  let prisma: PrismaClient;
  beforeAll(async () => {
    db = await createTestDatabase();
    // One connection: every statement below runs in the same session, whose prepared statements it then lists.
    prisma = createPrismaClient(db.url, { poolSize: 1 });
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  const preparedInSession = async () =>
    (
      await prisma.$queryRaw<{ statement: string }[]>`
        SELECT statement FROM pg_prepared_statements WHERE name LIKE 'ttc\\_%'`
    ).map((r) => r.statement);

  it('prepares explicit-column statements and ORM queries once per connection, and not SELECT *', async () => {
    const id = randomUUID();
    await prisma.socialAccount.create({ data: { id, userId: 'u1', openId: 'o1', displayName: 'A', scopes: [] } });
    for (let i = 0; i < 3; i++) {
      const [row] = await prisma.$queryRaw<{ open_id: string }[]>`
        SELECT open_id FROM social_accounts WHERE id = ${id}::uuid`;
      expect(row?.open_id).toBe('o1');
      expect(await prisma.socialAccount.findUnique({ where: { id }, select: { displayName: true } })).toEqual({
        displayName: 'A',
      });
      await prisma.$queryRaw`SELECT * FROM social_accounts WHERE id = ${id}::uuid`;
    }
    const prepared = await preparedInSession();
    expect(prepared.filter((s) => s.includes('SELECT open_id FROM social_accounts'))).toHaveLength(1);
    expect(prepared.some((s) => /"display_?[nN]ame"|display_name/.test(s) && !s.includes('open_id'))).toBe(true);
    expect(prepared.some((s) => s.includes('SELECT *'))).toBe(false);
  });

  it('keeps working after a migration adds a column (explicit result columns, also behind the marker)', async () => {
    const id = randomUUID();
    await prisma.socialAccount.create({ data: { id, userId: 'u2', openId: 'o2', displayName: 'B', scopes: [] } });
    const read = () =>
      prisma.$queryRaw<{ open_id: string }[]>`SELECT open_id FROM social_accounts WHERE id = ${id}::uuid`;
    const update = (name: string) => prisma.$queryRaw<{ id: string; display_name: string }[]>`/* prepared */
      WITH u AS (UPDATE social_accounts a SET display_name = ${name} WHERE a.id = ${id}::uuid RETURNING a.*)
      SELECT id::text AS id, display_name FROM u`;
    expect((await read())[0]?.open_id).toBe('o2');
    expect((await update('C'))[0]?.display_name).toBe('C');
    expect((await preparedInSession()).some((s) => s.includes('RETURNING a.*'))).toBe(true);
    // From another connection, as a deploy's migration would.
    await sql(db.url, 'ALTER TABLE social_accounts ADD COLUMN prepared_test_extra integer');
    expect((await read())[0]?.open_id).toBe('o2');
    expect((await update('D'))[0]?.display_name).toBe('D');
  });

  it('prepares nothing when turned off', async () => {
    const plain = createPrismaClient(db.url, { poolSize: 1, preparedStatements: false });
    try {
      await plain.$queryRaw`SELECT open_id FROM social_accounts LIMIT 1`;
      const rows = await plain.$queryRaw<{ n: bigint }[]>`SELECT count(name) AS n FROM pg_prepared_statements`;
      expect(Number(rows[0]?.n)).toBe(0);
    } finally {
      await plain.$disconnect();
    }
  });
});
