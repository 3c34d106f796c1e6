// Test helper (`@ttc/accounts/testing`): realistic `account.connected` payloads, with real ciphertexts.
import { randomBytes, randomUUID } from 'node:crypto';
import { encryptToken, type Keyring } from '@ttc/crypto';
import type { AccountConnectedPayload } from '@ttc/queue';
import { tokenAad } from './aad.js';

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
