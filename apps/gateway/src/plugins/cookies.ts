import cookie from '@fastify/cookie';
import type { FastifyPluginAsync } from 'fastify';
import { globalPlugin } from './global.js';

/**
 * Cookie parsing and setting. Values are sealed by the gateway itself (see services/browser-cookies.ts), so the
 * plugin's own signing is not used.
 */
export const cookies: FastifyPluginAsync = globalPlugin(async (app) => {
  await app.register(cookie, { parseOptions: {} });
});
