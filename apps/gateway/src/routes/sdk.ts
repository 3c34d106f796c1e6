import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';
import { POPUP_SCRIPT, POPUP_SCRIPT_PATH } from '../views/popup-script.js';

/** Where the browser SDK's script-tag build is served. */
export const SDK_PATH = '/sdk/connect.js';

/**
 * The script-tag build of `@ttc/connect-js`. Built (`pnpm build`), it is copied next to the gateway's bundle
 * (`dist/sdk/connect.js`, see package.json "bundle.assets"); run from the TypeScript sources (development, tests),
 * the gateway builds it in memory from the package's sources with the package's own build script (esbuild, a
 * development dependency: never needed in production). The import specifier is computed so that the production
 * bundle does not try to include the build script.
 */
async function loadSdk(): Promise<string> {
  const built = new URL('./sdk/connect.js', import.meta.url);
  if (existsSync(built)) return readFileSync(built, 'utf8');
  const builder = new URL('../../../../packages/connect-js/build.mjs', import.meta.url);
  if (!existsSync(builder)) {
    throw new Error(`the browser SDK is missing: ${built.pathname} (run pnpm build, which copies it there)`);
  }
  const { buildConnectSdk } = (await import(builder.href)) as {
    buildConnectSdk(o: { write: boolean }): Promise<string>;
  };
  return buildConnectSdk({ write: false });
}

/**
 * `GET /sdk/connect.js`, the browser SDK for `<script src>` on upstream apps' pages (cross-origin: CORP
 * `cross-origin`, CORS `*`; cached for 5 minutes and revalidated by ETag, since its URL does not change between
 * releases), and the popup pages' own script (content-hashed name, cached for good).
 */
export const sdkRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app) => {
  const sdk = await loadSdk();
  const etag = `"${createHash('sha256').update(sdk).digest('base64url').slice(0, 22)}"`;

  app.get(
    SDK_PATH,
    {
      logLevel: 'warn',
      schema: {
        summary: 'The browser SDK (script tag)',
        description:
          'Defines `window.TikTokConnect.openTikTokConnect({ url, clientToken?, onEvent, fallbackToRedirect? })`: opens the connect page in a popup and resolves with the results. The same code is the `@ttc/connect-js` ES module.',
        response: {
          200: { description: 'JavaScript', content: { 'text/javascript': { schema: z.string() } } },
          304: z.null().meta({ description: 'Not modified (If-None-Match matched the ETag)' }),
        },
      },
    },
    async (request, reply) => {
      reply
        .header('cache-control', 'public, max-age=300, must-revalidate')
        .header('etag', etag)
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('access-control-allow-origin', '*');
      if (request.headers['if-none-match'] === etag) return reply.status(304).send(null);
      return reply.type('text/javascript; charset=utf-8').send(sdk);
    },
  );

  // A static asset of the popup pages, not an operation: left out of the OpenAPI document.
  app.get(POPUP_SCRIPT_PATH, { logLevel: 'warn', schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=31536000, immutable');
    return reply.type('text/javascript; charset=utf-8').send(POPUP_SCRIPT);
  });
};
