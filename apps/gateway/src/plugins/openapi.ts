import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { SwaggerTransformObject } from '@fastify/swagger';
import swagger, { type SwaggerTransform } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBodySchema } from '../errors.js';

/** Where the document and its reference page are served. */
export const OPENAPI_PATH = '/openapi.json';
export const REFERENCE_PATH = '/docs';

/** The name of the bearer scheme `/v1` operations require (one of GATEWAY_API_KEYS). */
export const API_KEY_SCHEME = 'gatewayApiKey';
/** The bearer scheme of the one `/v1` operation a browser calls: a connect session's client token. */
export const CLIENT_TOKEN_SCHEME = 'connectClientToken';

const TAGS = {
  api: 'Upstream API',
  pages: 'Hosted pages',
  operations: 'Operations',
} as const;

/** A `schema.response` entry for a route that answers with an HTML page. */
export function htmlResponse(description: string) {
  return { description, content: { 'text/html': { schema: z.string() } } };
}

/** A `schema.response` entry for a bodiless redirect (documented only: a redirect has no body to serialize). */
export function redirectResponse(description: string) {
  return z.null().meta({ description, headers: { location: { type: 'string', description: 'Where to go next' } } });
}

interface GatewayPackage {
  name: string;
  version: string;
  description?: string;
}

/**
 * The gateway's package.json: two levels up from src/plugins/ in development, one level up from the bundle
 * dist/server.js once built (which read apps/package.json before, and the compiled gateway did not start).
 */
function gatewayPackage(): GatewayPackage {
  for (const path of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as GatewayPackage;
      if (pkg.name === '@ttc/gateway') return pkg;
    } catch {
      // Not this layout: try the other.
    }
  }
  throw new Error("the gateway's package.json was not found next to its code");
}

const zodTransform = createJsonSchemaTransform({ skipList: [] });

/**
 * What every route gets without writing it: a tag by kind of route, the bearer scheme and its 401 on `/v1`, a 429
 * on rate-limited routes, a 500 on JSON routes, and error pages on page routes. Added to the route's zod schemas
 * before they are converted, and only to the document: what a route declares itself (and so serializes) wins.
 */
const gatewayTransform: SwaggerTransform = (document) => {
  const { route } = document;
  const schema = (document.schema ?? {}) as FastifySchema & {
    hide?: boolean;
    tags?: string[];
    security?: unknown[];
    response?: Record<string, unknown>;
  };
  if (schema.hide) return zodTransform({ ...document, schema } as never);
  const api = document.url.startsWith('/v1/');
  const page = route.config?.page === true;
  const rateLimited = route.config?.rateLimit !== undefined;
  const declared = schema.response ?? {};
  const added: Record<string, unknown> = {};
  if (page) {
    added['4XX'] = htmlResponse('An error page (HTML) naming the `GW_…` code and a way back');
    added['5XX'] = htmlResponse('An error page (HTML)');
  } else {
    if (api) added[401] = errorBodySchema;
    if (rateLimited) added[429] = errorBodySchema;
    added[500] = errorBodySchema;
  }
  const extended = {
    ...schema,
    tags: schema.tags ?? [api ? TAGS.api : page ? TAGS.pages : TAGS.operations],
    ...(api && schema.security === undefined ? { security: [{ [API_KEY_SCHEME]: [] }] } : {}),
    response: { ...added, ...declared },
  };
  const transformed = zodTransform({ ...document, schema: extended } as never);
  // Error bodies are one shared component; each response still says which status it is.
  const responses = (transformed.schema as { response?: Record<string, Record<string, unknown>> }).response ?? {};
  for (const [status, response] of Object.entries(responses)) {
    if (response.$ref !== undefined && response.description === undefined) {
      responses[status] = { ...response, description: `${STATUS_CODES[Number(status)] ?? 'Error'}: an error body` };
    }
  }
  return transformed;
};

/**
 * The zod components, minus those no operation refers to: every registered schema is emitted in an input and an
 * output variant (`ErrorInput` next to `Error`), and only the output one describes responses.
 */
const gatewayTransformObject: SwaggerTransformObject = (document) => {
  const object = jsonSchemaTransformObject(document) as { components?: { schemas?: Record<string, unknown> } };
  const schemas = object.components?.schemas;
  if (schemas) {
    const { components, ...rest } = object;
    const text = JSON.stringify({ ...rest, components: { ...components, schemas: {} } });
    for (const name of Object.keys(schemas)) {
      if (!text.includes(`"#/components/schemas/${name}"`)) delete schemas[name];
    }
  }
  return object as ReturnType<SwaggerTransformObject>;
};

export interface OpenApiOptions {
  /** PUBLIC_GATEWAY_URL: the document's server, and where the reference page's "Try it out" sends requests. */
  publicUrl: string;
  https: boolean;
}

/**
 * The CSP of the reference page: the gateway's, plus Swagger UI's own scripts and stylesheets (served by the
 * gateway from the package, no CDN), its inline SVG icons (`data:` images) and its requests to the API. No
 * `unsafe-inline`, no `unsafe-eval`.
 */
export function referencePageCsp(opts: OpenApiOptions): string {
  const origin = new URL(opts.publicUrl).origin;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${origin}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    ...(opts.https ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}

/**
 * The OpenAPI 3.1 document of the gateway, generated from the routes' zod schemas as they register (so this plugin
 * loads before every route), served at `GET /openapi.json`, and its reference page (Swagger UI, from local assets)
 * at `/docs`. Routes marked `schema: { hide: true }` are left out.
 */
export const openApi = fastifyPlugin(async (app: FastifyInstance, opts: OpenApiOptions) => {
  const pkg = gatewayPackage();
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: pkg.name,
        version: pkg.version,
        ...(pkg.description ? { description: pkg.description } : {}),
      },
      servers: [{ url: opts.publicUrl }],
      tags: [
        { name: TAGS.api, description: 'For upstream apps, with a gateway API key (GATEWAY_API_KEYS).' },
        { name: TAGS.pages, description: "The user's browser: the hosted connect page and TikTok's redirect back." },
        { name: TAGS.operations, description: 'Health, readiness, metrics and this document.' },
      ],
      components: {
        securitySchemes: {
          [API_KEY_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description: 'One of GATEWAY_API_KEYS: `Authorization: Bearer <key>`.',
          },
          [CLIENT_TOKEN_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description:
              "A connect session's `clientToken` (from `POST /v1/connect-sessions`): reads that session's results only.",
          },
        },
      },
    },
    transform: gatewayTransform,
    transformObject: gatewayTransformObject,
  });

  // Built once (the routes cannot change after start-up) and served as text: nothing to serialize per request.
  let document: string | undefined;
  app.get(
    OPENAPI_PATH,
    {
      logLevel: 'warn',
      schema: {
        summary: 'This OpenAPI 3.1 document',
        response: {
          200: {
            description: 'The OpenAPI document of the gateway',
            content: {
              'application/json': {
                schema: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }),
              },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      document ??= JSON.stringify(app.swagger());
      // Public and the same for everyone (no secrets in it): any cache and any origin may have it.
      reply.header('cache-control', 'public, max-age=300');
      reply.header('access-control-allow-origin', '*');
      return reply.type('application/json; charset=utf-8').send(document);
    },
  );

  await app.register(swaggerUi, {
    routePrefix: REFERENCE_PATH,
    staticCSP: referencePageCsp(opts),
    // Never a third-party validator badge (it would load an image from validator.swagger.io).
    validatorUrl: false,
    uiConfig: {
      // Without Swagger UI's top bar: its "Explore" box (load any URL) is no use here, and its logo is an inline SVG
      // carrying a <style> element, which the CSP refuses.
      layout: 'BaseLayout',
      deepLinking: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 0,
      tryItOutEnabled: false,
    },
    theme: { title: `${pkg.name} API reference` },
  });
});
