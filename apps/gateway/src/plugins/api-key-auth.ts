import { safeEqual } from '@ttc/crypto';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';

/**
 * Builds a preHandler that accepts `Authorization: Bearer <key>` for any of the configured gateway API keys.
 * Every key is compared (no early exit) in constant time, so neither which key matched nor how much of it did
 * leaks through timing. `refusalMessage` replaces the catalogue's (which names the gateway API key).
 */
export function apiKeyAuth(keys: readonly string[], refusalMessage?: string) {
  const configured = keys.filter((k) => k.length > 0);
  return async function requireApiKey(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ ]+([^\s]{1,512})\s*$/i.exec(header) : null;
    const presented = match?.[1];
    let ok = false;
    if (presented !== undefined) {
      for (const key of configured) {
        if (safeEqual(presented, key)) ok = true;
      }
    }
    if (!ok) throw new GatewayError('GW_UNAUTHORIZED', refusalMessage);
  };
}
