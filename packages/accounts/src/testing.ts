// Test helper (`@ttc/accounts/testing`): realistic `account.connected` payloads, with real ciphertexts.
import { randomBytes, randomUUID } from 'node:crypto';
import { encryptToken, type Keyring } from '@ttc/crypto';
import type { AccountConnectedPayload } from '@ttc/queue';
import { createPkcePair, type TokenSet } from '@ttc/tiktok';
import { tokenAad } from './aad.js';
import { type Accounts, createAccounts } from './accounts.js';
import type { AccountsOptions } from './deps.js';

/** The account service of one simulated process, with the clients it was built from, for tests to inspect. */
export type TestAccounts = Accounts &
  Pick<AccountsOptions, 'prisma' | 'keyring' | 'redis' | 'queues' | 'queuePrefix' | 'tiktok'>;

/** {@link createAccounts}, keeping its clients at hand (`accounts.queues`, `accounts.redis`, `accounts.tiktok`). */
export function createTestAccounts(options: AccountsOptions): TestAccounts {
  const { prisma, keyring, redis, queues, queuePrefix, tiktok } = options;
  // The refresh policy is off unless a test sets `lifecycle.activeWindowMs`: tests of the refresh mechanics expect a
  // scheduled run to refresh; the policy's own tests turn it on.
  const lifecycle = { activeWindowMs: 0, ...options.lifecycle };
  return Object.assign(createAccounts({ ...options, lifecycle }), {
    prisma,
    keyring,
    redis,
    queues,
    queuePrefix,
    tiktok,
  });
}

export interface TestConnection {
  payload: AccountConnectedPayload;
  /** The clear tokens inside the payload's ciphertexts, to assert they never leak anywhere. */
  accessToken: string;
  refreshToken: string;
}

/**
 * A valid payload for `userId`/`openId` (random by default) whose tokens are fresh random strings encrypted with
 * {@link tokenAad}, like the gateway does. `obtainedAt` defaults to now.
 */
export function makeTestConnection(
  keyring: Keyring,
  overrides: Partial<Omit<AccountConnectedPayload, 'accessTokenCiphertext' | 'refreshTokenCiphertext'>> = {},
): TestConnection {
  const userId = overrides.userId ?? `user-${randomUUID()}`;
  const openId = overrides.openId ?? `open-${randomUUID()}`;
  const obtainedAt = overrides.obtainedAt ? new Date(overrides.obtainedAt) : new Date();
  const accessToken = `act.${randomBytes(24).toString('base64url')}`;
  const refreshToken = `rft.${randomBytes(24).toString('base64url')}`;
  const aad = tokenAad({ userId, openId });
  const payload: AccountConnectedPayload = {
    version: 1,
    connectionId: randomUUID(),
    connectSessionId: `cs_${randomUUID()}`,
    platform: 'TIKTOK',
    unionId: null,
    displayName: 'Test Account',
    username: 'test.account',
    avatarUrl: 'https://p16.tiktokcdn.test/avatar.jpeg',
    scopes: ['user.info.basic', 'video.list'],
    accessTokenExpiresAt: new Date(obtainedAt.getTime() + 86_400_000).toISOString(),
    refreshTokenExpiresAt: new Date(obtainedAt.getTime() + 365 * 86_400_000).toISOString(),
    ...overrides,
    userId,
    openId,
    obtainedAt: obtainedAt.toISOString(),
    accessTokenCiphertext: encryptToken(keyring, accessToken, aad),
    refreshTokenCiphertext: encryptToken(keyring, refreshToken, aad),
  };
  return { payload, accessToken, refreshToken };
}

/** The part of the sandbox's control API {@link connectThroughTikTok} needs. */
export interface CodeMinter {
  mintCode(p: {
    openId: string;
    redirectUri: string;
    scopes?: string[];
    codeChallenge?: string;
  }): Promise<{ code: string; scopes: string }>;
}

/**
 * Connects `openId` for `userId` the way the gateway does, minus the browser: a code minted by the sandbox, a real
 * exchange through `tiktok` (PKCE), tokens encrypted with {@link tokenAad}, then `applyConnection` (which
 * schedules the refresh). Returns the account id and the clear tokens TikTok issued.
 */
export async function connectThroughTikTok(
  accounts: TestAccounts,
  sandbox: CodeMinter,
  p: { userId?: string; openId: string; scopes?: string[] },
): Promise<{ accountId: string; tokens: TokenSet; userId: string }> {
  const { tiktok, keyring } = accounts;
  if (!tiktok) throw new Error('connectThroughTikTok needs accounts built with a TikTok client');
  const userId = p.userId ?? `user-${randomUUID()}`;
  const redirectUri = 'https://app.example.test/auth/tiktok/callback';
  const pkce = createPkcePair();
  const { code } = await sandbox.mintCode({
    openId: p.openId,
    redirectUri,
    scopes: p.scopes ?? ['user.info.basic', 'video.list'],
    codeChallenge: pkce.challenge,
  });
  const obtainedAt = new Date(accounts.now());
  const tokens = await tiktok.exchangeCode({ code, redirectUri, codeVerifier: pkce.verifier });
  const aad = tokenAad({ userId, openId: tokens.openId });
  const outcome = await accounts.applyConnection({
    version: 1,
    connectionId: randomUUID(),
    connectSessionId: `cs_${randomUUID()}`,
    userId,
    platform: 'TIKTOK',
    openId: tokens.openId,
    unionId: null,
    displayName: 'Sandbox Account',
    username: null,
    avatarUrl: null,
    scopes: tokens.scopes,
    accessTokenCiphertext: encryptToken(keyring, tokens.accessToken, aad),
    refreshTokenCiphertext: encryptToken(keyring, tokens.refreshToken, aad),
    accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
    refreshTokenExpiresAt: tokens.refreshTokenExpiresAt.toISOString(),
    obtainedAt: obtainedAt.toISOString(),
  });
  return { accountId: outcome.accountId, tokens, userId };
}
