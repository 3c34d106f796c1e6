import { isUuid } from '@ttc/accounts';
import type { GatewayContext } from '../context.js';
import { GatewayError } from '../errors.js';

/** True when `value` holds an ASCII control character (never legitimate in ids and URLs we accept). */
export function hasControlCharacters(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Checks `returnTo`: absolute http(s), no credentials, origin in the allow-list. Returns it normalised. */
export function checkReturnTo(value: unknown, allowedOrigins: readonly string[]): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048 || hasControlCharacters(value)) {
    throw new GatewayError('GW_INVALID_RETURN_TO');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new GatewayError('GW_INVALID_RETURN_TO');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    throw new GatewayError('GW_INVALID_RETURN_TO');
  }
  if (!allowedOrigins.includes(url.origin)) throw new GatewayError('GW_INVALID_RETURN_TO');
  return url.toString();
}

export interface CreatedConnectSession {
  id: string;
  url: string;
  expiresAt: string;
  clientToken: string;
  clientTokenExpiresAt: string;
}

/**
 * Creates a connect session for an upstream user; shared by the API and the development shortcut. With
 * `reconnectAccountId` the account must be one of that user's (else `GW_ACCOUNT_NOT_FOUND`): the page then offers to
 * re-authorize it.
 */
export async function createConnectSession(
  ctx: GatewayContext,
  input: {
    userId: string;
    returnTo: string;
    reconnectAccountId?: string | undefined;
    display?: 'page' | 'popup' | undefined;
    apiKey?: string | null;
  },
): Promise<CreatedConnectSession> {
  const returnTo = checkReturnTo(input.returnTo, ctx.config.allowedReturnOrigins);
  if (input.reconnectAccountId !== undefined) {
    const account = isUuid(input.reconnectAccountId) ? await ctx.accounts.get(input.reconnectAccountId) : null;
    // Another user's account answers exactly like a missing one.
    if (account === null || account.userId !== input.userId) {
      throw new GatewayError('GW_ACCOUNT_NOT_FOUND', 'reconnectAccountId is not an account of this user.');
    }
  }
  const { ref, linkToken, expiresAt, clientToken, clientTokenExpiresAt } = await ctx.sessions.create({
    userId: input.userId,
    returnTo,
    ttlSeconds: ctx.config.connectSessionTtlSeconds,
    now: ctx.now(),
    reconnectAccountId: input.reconnectAccountId,
    apiKey: input.apiKey,
    display: input.display,
  });
  ctx.metrics.connectSessionsCreated.inc();
  return {
    id: ref,
    url: `${ctx.config.publicGatewayUrl}/connect/${linkToken}`,
    expiresAt: expiresAt.toISOString(),
    clientToken,
    clientTokenExpiresAt: clientTokenExpiresAt.toISOString(),
  };
}
