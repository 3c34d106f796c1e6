import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';

/**
 * Cookie parsing and setting. Values are sealed by the gateway itself (see services/browser-cookies.ts), so the
 * plugin's own signing is not used.
 */
export const cookies = fastifyPlugin(async (app: FastifyInstance) => {
  await app.register(cookie, { parseOptions: {} });
});
