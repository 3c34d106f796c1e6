import { readFileSync } from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors.js';
import { type AdminAuthenticator, isSameOrigin, requireAdmin } from '../plugins/auth.js';
import { consolePage, loginPage, safeNext } from './pages.js';

const assets = {
  'console.js': {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(new URL('./assets/console.js', import.meta.url)),
  },
  'console.css': {
    type: 'text/css; charset=utf-8',
    body: readFileSync(new URL('./assets/console.css', import.meta.url)),
  },
} as const;

export interface ConsoleOptions {
  auth: AdminAuthenticator;
  /** Login attempts allowed per client IP per minute. */
  loginAttemptsPerMinute?: number;
}

/**
 * The admin console: a login form that exchanges an admin token for a sealed session cookie, and one page that
 * drives the GraphQL API from /console/assets/console.js.
 */
export async function consolePlugin(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const { auth } = options;
  await app.register(rateLimit, { global: false });

  // Login is a plain HTML form, so it posts urlencoded; this parser is only registered in the console's scope.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.get('/', async (_request, reply) => reply.redirect('/console', 303));

  app.get('/console/assets/:name', async (request, reply) => {
    const asset = assets[(request.params as { name: string }).name as keyof typeof assets];
    if (!asset) return reply.code(404).send(errorBody('NOT_FOUND', 'No such asset'));
    return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
  });

  app.get('/console/login', async (request, reply) => {
    const query = request.query as { next?: string; error?: string };
    const error =
      query.error === 'invalid'
        ? 'That token is not valid.'
        : query.error === 'expired'
          ? 'Please sign in again.'
          : undefined;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(loginPage({ next: safeNext(query.next), ...(error ? { error } : {}) }));
  });

  app.post(
    '/console/login',
    {
      config: { rateLimit: { max: options.loginAttemptsPerMinute ?? 10, timeWindow: '1 minute' } },
    },
    async (request, reply) => {
      // Login CSRF would sign the victim in as the attacker: refuse forms posted from other sites.
      if (!isSameOrigin(request)) return reply.code(403).send(errorBody('CSRF_REJECTED', 'Cross-site login refused'));
      const body = (request.body ?? {}) as { token?: unknown; next?: unknown };
      const next = safeNext(body.next);
      const hash = typeof body.token === 'string' ? auth.verifyToken(body.token.trim()) : null;
      if (!hash) {
        request.log.warn('admin console login refused');
        return reply.redirect(`/console/login?error=invalid&next=${encodeURIComponent(next)}`, 303);
      }
      const session = auth.openSession(hash);
      request.log.info({ tokenId: hash.slice(0, 12) }, 'admin console login');
      return reply.header('set-cookie', auth.sessionCookie(session.cookie)).redirect(next, 303);
    },
  );

  app.post(
    '/console/logout',
    { onRequest: requireAdmin(auth, { csrf: 'header', onMissing: 'json' }) },
    async (_request, reply) => reply.header('set-cookie', auth.clearedCookie()).code(204).send(),
  );

  app.get('/console', async (request, reply) => {
    const principal = auth.authenticate(request);
    if (principal === null || principal === 'bad-bearer' || principal.method !== 'cookie' || !principal.csrf) {
      return reply.redirect('/console/login?next=/console', 303);
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(consolePage({ csrf: principal.csrf }));
  });
}
