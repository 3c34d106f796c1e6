import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../src/testing.js';
import { serverUrl, sql } from './helpers.js';

describe('createTestDatabase', () => {
  it('gives every caller its own migrated database and drops it', async () => {
    const started = performance.now();
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const elapsed = performance.now() - started;
    try {
      expect(a.url).not.toBe(b.url);
      await a.prisma.socialAccount.create({
        data: { userId: 'u', openId: 'o', displayName: 'only in A', scopes: [] },
      });
      expect(await a.prisma.socialAccount.count()).toBe(1);
      expect(await b.prisma.socialAccount.count()).toBe(0);
      console.info(`two test databases ready in ${Math.round(elapsed)} ms`);
    } finally {
      await a.drop();
      await b.drop();
      await a.drop();
    }
    const names = [a.url, b.url].map((u) => decodeURIComponent(new URL(u).pathname.slice(1)));
    const left = await sql(serverUrl(), 'SELECT datname FROM pg_database WHERE datname = ANY($1)', [names]);
    expect(left).toEqual([]);
  });
});
