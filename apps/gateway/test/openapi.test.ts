// The OpenAPI document is the contract upstream apps code against: every route the gateway serves must be in it, and
// every answer the gateway gives must be one the document allows. Routes are taken from Fastify as they register,
// not from a list, so a route added later without documentation fails here.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { LightMyRequestResponse, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_PATH, REFERENCE_PATH } from '../src/plugins/openapi.js';
import { SDK_PATH } from '../src/routes/sdk.js';
import { POPUP_SCRIPT_PATH } from '../src/views/popup-script.js';
import { STYLESHEET_PATH } from '../src/views/styles.js';
import {
  API_KEY,
  authorizeParams,
  type Browser,
  connectAndShow,
  gatewayWithDeadRedis,
  type Harness,
  RETURN_TO,
  startHarness,
} from './harness.js';

interface Operation {
  summary?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>;
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; securitySchemes: Record<string, object> };
}

/**
 * Routes that are served but deliberately not in the document, each with its reason. Anything else a route
 * registers must be documented.
 */
const LEFT_OUT: { reason: string; matches(route: { method: string; url: string }): boolean }[] = [
  {
    reason: 'Fastify answers HEAD for every GET by itself; the GET is documented',
    matches: (r) => r.method === 'HEAD',
  },
  {
    reason: 'development shortcuts (/dev, /dev/done): registered only with NODE_ENV=development, not part of the API',
    matches: (r) => r.url === '/dev' || r.url.startsWith('/dev/'),
  },
  { reason: "the pages' stylesheet: a static asset", matches: (r) => r.url === STYLESHEET_PATH },
  { reason: "the popup pages' script: a static asset", matches: (r) => r.url === POPUP_SCRIPT_PATH },
  {
    reason: 'the CORS preflight of the client-token result route: answered by browsers, not called by clients',
    matches: (r) => r.method === 'OPTIONS' && r.url === '/v1/connect-sessions/:id/result',
  },
  {
    reason:
      'the reference page, its assets and its copies of the document (json, yaml): the rendering of this document',
    matches: (r) => r.url === REFERENCE_PATH || r.url.startsWith(`${REFERENCE_PATH}/`),
  },
];

let h: Harness;
let doc: OpenApiDocument;
const routes: { method: string; url: string }[] = [];
/** `METHOD /path/{template} status` of every response checked against the document. */
const checked = new Set<string>();
const ajv = new Ajv2020({ allErrors: true });
addFormats.default(ajv);

beforeAll(async () => {
  h = await startHarness({
    onRoute: (route: RouteOptions) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    },
  });
  const res = await h.app.inject(OPENAPI_PATH);
  expect(res.statusCode).toBe(200);
  doc = res.json();
  // The document's own references (`#/components/schemas/Error`) resolve against its components.
  ajv.addSchema({ $id: 'openapi-components', $defs: doc.components.schemas });
});

afterAll(async () => {
  await h?.close();
});

function refsToComponents(schema: object): object {
  return JSON.parse(
    JSON.stringify(schema).replaceAll('"#/components/schemas/', '"openapi-components#/$defs/'),
  ) as object;
}

/** The document's path template for a request path: a literal segment wins over a parameter (`/connect/tiktok`). */
function templateFor(path: string): string | undefined {
  const candidates = Object.keys(doc.paths).filter((template) => {
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
    return new RegExp(`^${pattern}$`).test(path);
  });
  return candidates.sort((a, b) => (a.match(/\{/g) ?? []).length - (b.match(/\{/g) ?? []).length)[0];
}

/**
 * Checks one real response against the document: its path and method are documented, its status is listed (exactly
 * or as `4XX`), its content type is one the response declares (or it has no body when none is declared), and a JSON
 * body validates against the declared schema, which forbids fields it does not name.
 */
function expectDocumented(method: string, url: string, res: LightMyRequestResponse): void {
  const path = url.split('?')[0] ?? url;
  const template = templateFor(path);
  const label = `${method} ${template ?? path}`;
  expect(template, `${method} ${path} matches no path of the document`).toBeDefined();
  const operation = doc.paths[template as string]?.[method.toLowerCase()];
  expect(operation, `${label} is not in the document`).toBeDefined();
  const status = String(res.statusCode);
  const response = operation?.responses[status] ?? operation?.responses[`${status[0]}XX`];
  expect(response, `${label} answered ${status}, which the document does not list`).toBeDefined();
  if (response?.content === undefined) {
    expect(res.body, `${label} ${status} is documented without a body`).toBe('');
  } else {
    const type = String(res.headers['content-type'] ?? '').split(';')[0] ?? '';
    const media = response.content[type];
    expect(
      media,
      `${label} ${status} answered ${type}, the document says ${Object.keys(response.content)}`,
    ).toBeDefined();
    if (type === 'application/json' && media) {
      const validate = ajv.compile(refsToComponents(media.schema));
      const valid = validate(res.json());
      expect(valid, `${label} ${status}: ${ajv.errorsText(validate.errors)}\n${res.body}`).toBe(true);
    }
  }
  checked.add(`${label} ${status}`);
}

async function call(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  options: { headers?: Record<string, string>; payload?: string | object; key?: boolean } = {},
): Promise<LightMyRequestResponse> {
  const headers = { ...(options.key === false ? {} : { authorization: `Bearer ${API_KEY}` }), ...options.headers };
  const res = await h.app.inject({
    method,
    url,
    headers,
    ...(options.payload !== undefined ? { payload: options.payload } : {}),
  });
  expectDocumented(method, url, res);
  return res;
}

/** A browser step, checked like any other response. */
async function browse(browser: Browser, method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
  const res = method === 'GET' ? await browser.get(url) : await browser.post(url, form ?? {});
  expectDocumented(method, url, res);
  return res;
}

describe('the OpenAPI document', () => {
  it('is served as public, cacheable OpenAPI 3.1 naming the gateway, its public URL and the bearer scheme', async () => {
    const res = await h.app.inject(OPENAPI_PATH);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: '@ttc/gateway', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(doc.servers).toEqual([{ url: h.publicUrl }]);
    expect(doc.components.securitySchemes.gatewayApiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    // Nothing secret is in it: no API key, cookie secret, TikTok client secret or token key.
    for (const secret of [API_KEY, h.config.cookieSecret, h.config.tiktok.clientSecret, h.config.tokenEncryptionKeys]) {
      expect(res.body).not.toContain(secret);
    }
  });

  it('documents every route the gateway serves, except the ones left out on purpose', () => {
    expect(routes.length).toBeGreaterThan(10);
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    const missing = routes
      .filter((route) => !LEFT_OUT.some((rule) => rule.matches(route)))
      .map((route) => `${route.method} ${route.url.replace(/:([^/]+)/g, '{$1}')}`)
      .filter((operation) => !documented.has(operation));
    expect(missing).toEqual([]);
  });

  it('gives every operation a summary and a success answer, and every /v1 operation a bearer scheme and its 401', () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const label = `${method.toUpperCase()} ${path}`;
        expect(operation.summary, `${label} has no summary`).toBeTruthy();
        expect(
          Object.keys(operation.responses).some((status) => /^[23]/.test(status)),
          `${label} documents no success`,
        ).toBe(true);
        if (path.startsWith('/v1/')) {
          // The API key, except the one operation a browser calls with its session's client token.
          expect(operation.security, label).toEqual(
            path === '/v1/connect-sessions/{id}/result' ? [{ connectClientToken: [] }] : [{ gatewayApiKey: [] }],
          );
          expect(operation.responses['401']?.content?.['application/json']?.schema, label).toEqual({
            $ref: '#/components/schemas/Error',
          });
        }
      }
    }
  });
});

describe('real responses validate against the document', () => {
  it('operations: /, health, readiness, metrics and the document itself', async () => {
    await call('GET', '/', { key: false });
    await call('GET', '/healthz', { key: false });
    await call('GET', '/readyz', { key: false });
    await call('GET', '/metrics', { key: false });
    await call('GET', OPENAPI_PATH, { key: false });
    const sdk = await call('GET', SDK_PATH, { key: false });
    expect(sdk.statusCode).toBe(200);
    const notModified = await call('GET', SDK_PATH, {
      key: false,
      headers: { 'if-none-match': String(sdk.headers.etag) },
    });
    expect(notModified.statusCode).toBe(304);
  });

  it('readiness with Redis unreachable (503)', async () => {
    const app = await gatewayWithDeadRedis(h);
    try {
      const res = await app.inject('/readyz');
      expect(res.statusCode).toBe(503);
      expectDocumented('GET', '/readyz', res);
    } finally {
      await app.close();
    }
  });

  it('POST /v1/connect-sessions: created, and each refusal', async () => {
    const json = { 'content-type': 'application/json' };
    const ok = await call('POST', '/v1/connect-sessions', { payload: { userId: 'user-oa', returnTo: RETURN_TO } });
    expect(ok.statusCode).toBe(201);
    const refusals: [number, Parameters<typeof call>[2]][] = [
      [401, { key: false, payload: { userId: 'user-oa', returnTo: RETURN_TO } }],
      [400, { payload: { userId: '', returnTo: RETURN_TO } }],
      [400, { payload: { userId: 'user-oa', returnTo: 'https://evil.example/' } }],
      [400, { headers: json, payload: '{"userId":' }],
      [415, { headers: { 'content-type': 'text/plain' }, payload: 'hello' }],
      [413, { headers: json, payload: JSON.stringify({ userId: 'u', returnTo: RETURN_TO, pad: 'x'.repeat(20_000) }) }],
    ];
    for (const [status, options] of refusals) {
      const res = await call('POST', '/v1/connect-sessions', options);
      expect(res.statusCode, res.body).toBe(status);
    }
  });

  it('the hosted pages through a whole connection, then the access token of the account and its refusals', async () => {
    // Pages refused without a connect session.
    expect((await browse(h.browser(), 'GET', '/connect')).statusCode).toBe(401);
    expect((await browse(h.browser(), 'GET', `/connect/cs_${'x'.repeat(43)}`)).statusCode).toBe(404);
    expect((await browse(h.browser(), 'GET', '/auth/tiktok/callback?code=c&state=nonsense')).statusCode).toBe(400);

    const session = await h.createSession('user-openapi');
    const browser = h.browser();
    expect((await browse(browser, 'GET', new URL(session.url).pathname)).statusCode).toBe(303);
    expect((await browse(browser, 'GET', '/connect')).statusCode).toBe(200);
    const start = await browse(browser, 'GET', '/connect/tiktok');
    expect(start.statusCode).toBe(302);
    const params = authorizeParams(start);
    const minted = await h.sandbox.control.mintCode({
      openId: 'sbx-open-ava',
      redirectUri: params.get('redirect_uri') ?? '',
      scopes: ['user.info.basic', 'user.info.profile', 'video.list'],
      codeChallenge: params.get('code_challenge') ?? '',
    });
    const query = new URLSearchParams({ code: minted.code, scopes: minted.scopes, state: params.get('state') ?? '' });
    const callback = await browse(browser, 'GET', `/auth/tiktok/callback?${query}`);
    expect(callback.statusCode).toBe(303);
    expect((await browse(browser, 'GET', String(callback.headers.location))).statusCode).toBe(200);

    const account = await h.db.prisma.socialAccount.findFirstOrThrow({ where: { userId: 'user-openapi' } });
    const tokenUrl = `/v1/accounts/${account.id}/access-token`;
    expect((await call('GET', tokenUrl)).statusCode).toBe(200);
    expect((await call('GET', tokenUrl, { key: false })).statusCode).toBe(401);
    expect((await call('GET', `${tokenUrl}?minValidity=abc`)).statusCode).toBe(400);
    expect((await call('GET', '/v1/accounts/not-an-account/access-token')).statusCode).toBe(404);
    await h.db.prisma.socialAccount.update({ where: { id: account.id }, data: { status: 'REAUTH_REQUIRED' } });
    expect((await call('GET', tokenUrl)).statusCode).toBe(409);
    await h.db.prisma.socialAccount.update({ where: { id: account.id }, data: { status: 'ACTIVE' } });

    // Disconnect: a confirmation page, a bad CSRF token, then the disconnection; the token is gone (410).
    const page = await browser.get('/connect');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const disconnectUrl = `/connect/accounts/${account.id}/disconnect`;
    expect((await browse(browser, 'POST', disconnectUrl, { csrf })).statusCode).toBe(200);
    expect((await browse(browser, 'POST', disconnectUrl, { csrf: 'forged', confirm: 'yes' })).statusCode).toBe(403);
    expect((await browse(browser, 'POST', disconnectUrl, { csrf, confirm: 'yes' })).statusCode).toBe(303);
    expect((await call('GET', tokenUrl)).statusCode).toBe(410);
  });

  it('the account API, session results, Done and reconnect, and their refusals', async () => {
    const { browser, userId, id } = await h.openSession('user-openapi-api');
    const { page } = await connectAndShow(h, browser, 'sbx-open-ben');
    const account = await h.db.prisma.socialAccount.findFirstOrThrow({ where: { userId } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';

    // Reconnect (a form post to TikTok's authorization) and Done (back to the app with the session id).
    await h.db.prisma.socialAccount.update({ where: { id: account.id }, data: { status: 'REAUTH_REQUIRED' } });
    expect((await browse(browser, 'POST', `/connect/accounts/${account.id}/reconnect`, { csrf })).statusCode).toBe(303);
    await h.db.prisma.socialAccount.update({ where: { id: account.id }, data: { status: 'ACTIVE' } });
    expect((await browse(browser, 'GET', `/connect/done?csrf=${encodeURIComponent(csrf)}`)).statusCode).toBe(303);

    expect((await call('GET', `/v1/connect-sessions/${id}`)).statusCode).toBe(200);
    expect((await call('GET', '/v1/connect-sessions/cs_unknown')).statusCode).toBe(404);
    expect((await call('GET', `/v1/connect-sessions/${id}`, { key: false })).statusCode).toBe(401);

    // The browser's read of the same session, with its client token (the API key is not it).
    const created = await call('POST', '/v1/connect-sessions', { payload: { userId, returnTo: RETURN_TO } });
    const { id: other, clientToken } = created.json() as { id: string; clientToken: string };
    const bearer = (token: string) => ({ key: false, headers: { authorization: `Bearer ${token}` } });
    expect((await call('GET', `/v1/connect-sessions/${other}/result`, bearer(clientToken))).statusCode).toBe(200);
    expect((await call('GET', `/v1/connect-sessions/${other}/result`, { key: false })).statusCode).toBe(401);
    expect((await call('GET', `/v1/connect-sessions/${other}/result`)).statusCode).toBe(401);
    expect((await call('GET', `/v1/connect-sessions/${id}/result`, bearer(clientToken))).statusCode).toBe(401);
    expect((await call('GET', '/v1/connect-sessions/cs_unknown/result', bearer(clientToken))).statusCode).toBe(400);
    const unknown = `/v1/connect-sessions/cs_${'u'.repeat(22)}/result`;
    expect((await call('GET', unknown, bearer(clientToken))).statusCode).toBe(404);

    const user = encodeURIComponent(userId);
    expect((await call('GET', `/v1/users/${user}/accounts`)).statusCode).toBe(200);
    expect((await call('GET', `/v1/users/${user}/accounts?status=ACTIVE`)).statusCode).toBe(200);
    expect((await call('GET', `/v1/users/${user}/accounts?status=SOMETIMES`)).statusCode).toBe(400);
    expect((await call('GET', `/v1/users/${user}/accounts`, { key: false })).statusCode).toBe(401);

    expect((await call('GET', `/v1/accounts/${account.id}`)).statusCode).toBe(200);
    expect((await call('GET', '/v1/accounts/not-an-account')).statusCode).toBe(404);
    expect((await call('DELETE', `/v1/accounts/${account.id}`)).statusCode).toBe(200);
    expect((await call('DELETE', '/v1/accounts/not-an-account')).statusCode).toBe(404);

    const tooLong = 'u'.repeat(256);
    expect((await call('GET', `/v1/users/${user}/export`)).statusCode).toBe(200);
    expect((await call('GET', `/v1/users/${tooLong}/export`)).statusCode).toBe(400);
    expect((await call('DELETE', `/v1/users/${user}`)).statusCode).toBe(200);
    expect((await call('DELETE', `/v1/users/${tooLong}`)).statusCode).toBe(400);
  });

  it('covers every documented operation, and a success and a refusal of every /v1 operation', () => {
    const exercised = [...checked];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) {
        const label = `${method.toUpperCase()} ${path}`;
        const statuses = exercised.filter((c) => c.startsWith(`${label} `)).map((c) => c.slice(label.length + 1));
        expect(statuses, `no response of ${label} was checked against the document`).not.toEqual([]);
        if (path.startsWith('/v1/')) {
          expect(
            statuses.some((s) => s.startsWith('2')),
            `${label}: no success checked`,
          ).toBe(true);
          expect(
            statuses.some((s) => s.startsWith('4')),
            `${label}: no refusal checked`,
          ).toBe(true);
        }
      }
    }
  });
});
