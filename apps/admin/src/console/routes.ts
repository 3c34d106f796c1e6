import { readFileSync } from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody } from '../errors.js';
import { type AdminAuthenticator, isSameOrigin, readCookie, requireAdmin, SESSION_COOKIE } from '../plugins/auth.js';
import { consolePage, loginPage, safeNext, webhooksPage } from './pages.js';

const script = (name: string) => ({
  type: 'text/javascript; charset=utf-8',
  body: readFileSync(new URL(`./assets/${name}`, import.meta.url)),
});

// ES modules: common.js (GraphQL client, DOM helpers, sign-out) is imported by each view's script.
const assets = {
  'common.js': script('common.js'),
  'console.js': script('console.js'),
  'webhooks.js': script('webhooks.js'),
  'queues-a11y.js': script('queues-a11y.js'),
  'queues-a11y.css': {
    type: 'text/css; charset=utf-8',
    body: readFileSync(new URL('./assets/queues-a11y.css', import.meta.url)),
  },
  'console.css': {
    type: 'text/css; charset=utf-8',
    body: readFileSync(new URL('./assets/console.css', import.meta.url)),
  },
} as const;

// Route schemas. The console's forms and links are read leniently, as before: a field that is anything but one
// string counts as absent, so a tampered form gets the login page or "invalid token", never a 400.
const formField = z.string().optional().catch(undefined);
const assetParams = z.object({ name: z.string() });
const loginQuery = z.object({ next: formField, error: z.enum(['invalid', 'expired']).optional().catch(undefined) });
const loginForm = z.object({ token: formField, next: formField }).catch({});

const LOGIN_ERRORS = { invalid: 'That token is not valid.', expired: 'Please sign in again.' } as const;

export interface ConsoleOptions {
  auth: AdminAuthenticator;
  /** Wrong login attempts allowed per client address (TRUST_PROXY decides which) per minute. */
  loginAttemptsPerMinute?: number;
}

/**
 * The admin console: a login form that exchanges an admin token for a sealed session cookie, and one page that
 * drives the GraphQL API from /console/assets/console.js.
 */
export async function consolePlugin(scope: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const { auth } = options;
  // Zod route schemas in this (encapsulated) scope only: Mercurius's routes keep their own JSON schemas.
  scope.setValidatorCompiler(validatorCompiler);
  scope.setSerializerCompiler(serializerCompiler);
  const app = scope.withTypeProvider<ZodTypeProvider>();
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

  app.get('/console/assets/:name', { schema: { params: assetParams } }, async (request, reply) => {
    const { name } = request.params;
    // Own keys only: `toString` is not an asset.
    if (!Object.hasOwn(assets, name)) return reply.code(404).send(errorBody('NOT_FOUND', 'No such asset'));
    const asset = assets[name as keyof typeof assets];
    return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
  });

  app.get('/console/login', { schema: { querystring: loginQuery } }, async (request, reply) => {
    const { next, error } = request.query;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(loginPage({ next: safeNext(next), ...(error ? { error: LOGIN_ERRORS[error] } : {}) }));
  });

  // The login limiter counts wrong tokens per client address (request.ip: the socket's peer, or the client a trusted
  // proxy names, TRUST_PROXY) and answers 429 once they are used up; a correct token is never counted nor refused
  // (`allowList`, checked in preHandler, once the form is parsed). So wrong guesses cannot lock the right token out,
  // neither for other clients nor for the guesser's own address (an office behind one NAT, a misconfigured
  // TRUST_PROXY). What bounds guessing is the token itself: production refuses ADMIN_API_TOKENS shorter than 24
  // characters, far beyond reach at any request rate; the limiter caps the noise and the work a guesser causes.
  const isAdminToken = (token: string | undefined) => token !== undefined && auth.verifyToken(token.trim()) !== null;
  app.post(
    '/console/login',
    {
      schema: { body: loginForm },
      config: {
        rateLimit: {
          max: options.loginAttemptsPerMinute ?? 10,
          timeWindow: '1 minute',
          hook: 'preHandler',
          allowList: (request) => isAdminToken((request.body as z.infer<typeof loginForm>).token),
        },
      },
    },
    async (request, reply) => {
      // Login CSRF would sign the victim in as the attacker: refuse forms posted from other sites.
      if (!isSameOrigin(request)) return reply.code(403).send(errorBody('CSRF_REJECTED', 'Cross-site login refused'));
      const { token } = request.body;
      const next = safeNext(request.body.next);
      const hash = token === undefined ? null : auth.verifyToken(token.trim());
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
    async (request, reply) => {
      const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (request.admin?.method === 'cookie' && cookie) await auth.endSession(cookie);
      return reply.header('set-cookie', auth.clearedCookie()).code(204).send();
    },
  );

  // The signed-in pages: a cookie session with its CSRF token, or the login form (which comes back here).
  const pages = { '/console': consolePage, '/console/webhooks': webhooksPage } as const;
  for (const [path, page] of Object.entries(pages)) {
    app.get(path, async (request, reply) => {
      const principal = await auth.authenticate(request);
      if (principal === null || principal === 'bad-bearer' || principal.method !== 'cookie' || !principal.csrf) {
        return reply.redirect(`/console/login?next=${path}`, 303);
      }
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(page({ csrf: principal.csrf }));
    });
  }
}
