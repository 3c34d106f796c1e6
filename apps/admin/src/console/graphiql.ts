import { createReadStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors.js';
import type { AdminAuthenticator } from '../plugins/auth.js';
import { escapeHtml } from './pages.js';

// Mercurius's own GraphiQL page loads React and GraphiQL from unpkg.com at run time: a blank page without internet.
// This one serves the same GraphiQL (the `graphiql` package's UMD bundle, with React 18's UMD builds it needs) from
// the installed packages, so it works offline and its CSP allows no other origin.
const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** Resolved when GraphiQL is enabled (development), so that other environments never look for these packages. */
const assetFiles = (): Record<string, { type: string; path: string }> => ({
  'react.js': { type: 'text/javascript', path: join(packageDir('react'), 'umd/react.production.min.js') },
  'react-dom.js': { type: 'text/javascript', path: join(packageDir('react-dom'), 'umd/react-dom.production.min.js') },
  'graphiql.js': { type: 'text/javascript', path: join(packageDir('graphiql'), 'graphiql.min.js') },
  'graphiql.css': { type: 'text/css', path: join(packageDir('graphiql'), 'graphiql.min.css') },
  'page.css': { type: 'text/css', path: fileURLToPath(new URL('./assets/graphiql-page.css', import.meta.url)) },
  'start.js': { type: 'text/javascript', path: fileURLToPath(new URL('./assets/graphiql-start.js', import.meta.url)) },
});

/** The page's policy: its own scripts only; GraphiQL sets inline styles and embeds its fonts as data: URLs. */
export const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

function page(csrf: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>GraphiQL · TikTok connect admin</title>
${csrf ? `<meta name="csrf-token" content="${escapeHtml(csrf)}">` : ''}
<link rel="stylesheet" href="/graphiql/assets/graphiql.css">
<link rel="stylesheet" href="/graphiql/assets/page.css">
</head>
<body>
<main id="graphiql" aria-label="GraphiQL"><p>Loading GraphiQL…</p></main>
<script src="/graphiql/assets/react.js"></script>
<script src="/graphiql/assets/react-dom.js"></script>
<script src="/graphiql/assets/graphiql.js"></script>
<script src="/graphiql/assets/start.js"></script>
</body>
</html>
`;
}

/**
 * GET /graphiql and its assets. The page and the files are public; the queries it sends are not: they carry the
 * console session (cookie plus its CSRF token, put in the page when the visitor is signed in to the console) or an
 * `authorization` header typed into GraphiQL's header editor.
 */
export async function graphiqlRoutes(app: FastifyInstance, options: { auth: AdminAuthenticator }): Promise<void> {
  // Checked once: a missing package fails at start-up, not at the first visit.
  const assets = assetFiles();
  for (const asset of Object.values(assets))
    if (!existsSync(asset.path)) throw new Error(`GraphiQL asset missing: ${asset.path}`);

  app.get('/graphiql', async (request, reply) => {
    // The session only adds its CSRF token to the page: without it (signed out, or Redis down for the sign-out
    // check) the page still loads, and its queries get the API's own answer.
    const principal = await options.auth.authenticate(request).catch(() => null);
    const csrf = principal !== null && principal !== 'bad-bearer' ? principal.csrf : undefined;
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page(csrf));
  });

  app.get<{ Params: { name: string } }>('/graphiql/assets/:name', async (request, reply) => {
    const { name } = request.params;
    if (!Object.hasOwn(assets, name)) return reply.code(404).send(errorBody('NOT_FOUND', 'No such asset'));
    const asset = assets[name]!;
    return reply
      .type(`${asset.type}; charset=utf-8`)
      .header('cache-control', 'no-cache')
      .send(createReadStream(asset.path));
  });
}
