import type { GatewayApiKey } from '@ttc/config';
import { safeEqual } from '@ttc/crypto';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The name of the gateway API key this request was authenticated with (GATEWAY_API_KEYS `name:key`), for the
     * request log, the per-key metrics and the account events of what it did; null on requests without one.
     */
    apiKeyName: string | null;
  }
}

/**
 * Builds a hook that accepts `Authorization: Bearer <key>` for any of the configured keys and records the matching
 * key's name on the request (`request.apiKeyName`; bare strings, such as METRICS_TOKEN, have none). Every key is
 * compared (no early exit) in constant time, so neither which key matched nor how much of it did leaks through
 * timing. `refusalMessage` replaces the catalogue's (which names the gateway API key).
 */
export function apiKeyAuth(keys: readonly (GatewayApiKey | string)[], refusalMessage?: string) {
  const configured = keys
    .map((k) => (typeof k === 'string' ? { name: null, key: k } : k))
    .filter((k) => k.key.length > 0);
  return async function requireApiKey(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ ]+([^\s]{1,512})\s*$/i.exec(header) : null;
    const presented = match?.[1];
    let matched: { name: string | null } | undefined;
    if (presented !== undefined) {
      for (const key of configured) {
        if (safeEqual(presented, key.key)) matched = key;
      }
    }
    if (matched === undefined) throw new GatewayError('GW_UNAUTHORIZED', refusalMessage);
    if (matched.name !== null) request.apiKeyName = matched.name;
  };
}
