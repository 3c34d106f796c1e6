import type { FastifyPluginAsync } from 'fastify';
import { globalPlugin } from './global.js';

/**
 * One access-log line per request, written when the response is done (Fastify's default is two: "incoming
 * request" and "request completed"). Routes keep their `logLevel`, and the request serializer in app.ts strips
 * query strings and link secrets.
 */
export const accessLog: FastifyPluginAsync = globalPlugin(async (app) => {
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      { req: request, res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime) },
      'request completed',
    );
    done();
  });
});
