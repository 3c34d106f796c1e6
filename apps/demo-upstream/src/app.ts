import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { type Account, GatewayApiError, gatewayClient } from './gateway.js';
import { accountsFragment, homePage, STYLES, webhookItem } from './views.js';
import { WebhookInbox } from './webhooks.js';

export interface DemoOptions {
  /** The gateway's public URL (PUBLIC_GATEWAY_URL): the server calls its API, the page loads its SDK. */
  gatewayUrl: string;
  /** One of the gateway's API keys; read when needed. */
  apiKey: () => string;
  /** This app's own public URL (an origin of the gateway's ALLOWED_RETURN_ORIGINS). */
  publicUrl: string;
  /** The one signed-in user of the demo. */
  userId: string;
  /** One of the gateway's WEBHOOK_SECRETS (`whsec_…`); without it webhooks are refused. */
  webhookSecret?: string | undefined;
  logger?: FastifyServerOptions['logger'];
}

const APP_JS = readFileSync(new URL('./assets/app.js', import.meta.url), 'utf8');

/**
 * The demo upstream app: a Fastify server standing for "your app". Its page lists the signed-in user's TikTok
 * accounts (account API, server-side), opens the connect popup (browser SDK; the session is created here with the
 * API key, the page only gets its url and client token), shows the webhooks it received (signature verified) and
 * gets an access token on request (server-side; the page only learns that it worked and when it expires).
 */
export async function buildDemoApp(options: DemoOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false });
  const gateway = gatewayClient({ gatewayUrl: options.gatewayUrl, apiKey: options.apiKey });
  const inbox = new WebhookInbox(options.webhookSecret);
  const gatewayOrigin = new URL(options.gatewayUrl).origin;
  const streams = new Set<ServerResponse>();

  // Webhook signatures are over the body exactly as received: JSON bodies are kept as text.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  // The page's forms carry no fields (the action is in the URL).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, _body, done) =>
    done(null, {}),
  );

  app.addHook('onSend', async (request, reply) => {
    reply.header(
      'content-security-policy',
      [
        "default-src 'self'",
        `script-src 'self' ${gatewayOrigin}`,
        `connect-src 'self' ${gatewayOrigin}`,
        "img-src 'self' https: http:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
      ].join('; '),
    );
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'strict-origin-when-cross-origin');
    // `?coop=same-origin` tries the SDK's fallback: this header cuts the popup's link to the page, so the SDK reads
    // the results with the session's client token instead.
    if ((request.query as { coop?: string } | undefined)?.coop === 'same-origin') {
      reply.header('cross-origin-opener-policy', 'same-origin');
    }
  });
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });

  async function accounts(): Promise<Account[] | { error: string }> {
    try {
      return (await gateway.listAccounts(options.userId)).accounts;
    } catch (error) {
      return { error: `The gateway did not answer the account list: ${(error as Error).message}` };
    }
  }

  async function notice(query: Record<string, string | undefined>) {
    if (query.connect_session_id) {
      // Back from a full-page (redirect) connection: what happened in that session.
      try {
        const { results } = await gateway.sessionResults(query.connect_session_id);
        const names = results.map((r) => `${r.displayName} (${r.outcome})`).join(', ');
        return { tone: 'ok' as const, text: results.length ? `Connected: ${names}.` : 'Nothing was connected.' };
      } catch (error) {
        return { tone: 'error' as const, text: `Could not read the session: ${(error as Error).message}` };
      }
    }
    if (query.token === 'ok' && query.expiresAt) {
      return {
        tone: 'ok' as const,
        text: `Got an access token for ${query.name ?? 'the account'} (not shown); it expires at ${query.expiresAt}.`,
      };
    }
    if (query.token === 'error') return { tone: 'error' as const, text: `No access token: ${query.code ?? 'error'}.` };
    return undefined;
  }

  app.get('/', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
    return homePage({
      userId: options.userId,
      gatewayUrl: options.gatewayUrl,
      accounts: await accounts(),
      webhooks: inbox.received,
      webhooksEnabled: inbox.enabled,
      notice: await notice(query),
    });
  });

  // Where "Done" of a redirect connection comes back to (the session's returnTo).
  app.get('/connected', async (request, reply) => {
    const id = (request.query as { connect_session_id?: string }).connect_session_id ?? '';
    return reply.redirect(`/?connect_session_id=${encodeURIComponent(id)}`, 303);
  });

  app.get('/accounts', async (_request, reply) => {
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
    return accountsFragment(await accounts());
  });

  // The button's session: created here with the API key; the page gets only its url and client token.
  app.post('/connect-session', async (_request, reply) => {
    const session = await gateway.createConnectSession(options.userId, `${options.publicUrl}/connected`, 'popup');
    reply.header('cache-control', 'no-store');
    return { url: session.url, clientToken: session.clientToken }; // never the API key
  });

  // The same without JavaScript or when the popup is blocked: a full-page redirect; "Done" returns to /connected.
  app.get('/connect/redirect', async (_request, reply) => {
    const session = await gateway.createConnectSession(options.userId, `${options.publicUrl}/connected`, 'page');
    return reply.redirect(session.url, 303);
  });

  // "Get access token": used server-side; the page only learns that it worked and when it expires.
  app.post('/accounts/:id/access-token', async (request, reply) => {
    const { id } = request.params as { id: string };
    try {
      const { expiresAt } = await gateway.accessToken(id); // use accessToken here, server-side; never send it on
      const list = await accounts();
      const name = Array.isArray(list) ? list.find((a) => a.id === id)?.displayName : undefined;
      const query = new URLSearchParams({ token: 'ok', expiresAt, ...(name ? { name } : {}) });
      return reply.redirect(`/?${query}`, 303);
    } catch (error) {
      const code = error instanceof GatewayApiError ? error.code : 'GATEWAY_UNREACHABLE';
      return reply.redirect(`/?${new URLSearchParams({ token: 'error', code })}`, 303);
    }
  });

  app.post('/webhooks', async (request, reply) => {
    const ok = inbox.accept(typeof request.body === 'string' ? request.body : '', request.headers);
    return reply.status(ok ? 204 : 400).send();
  });

  app.get('/webhooks/stream', (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': live webhooks\n\n');
    streams.add(res);
    const unsubscribe = inbox.subscribe((w) => res.write(`event: webhook\ndata: ${webhookItem(w)}\n\n`));
    request.raw.on('close', () => {
      unsubscribe();
      streams.delete(res);
    });
  });

  app.get('/app.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(APP_JS));
  app.get('/app.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(STYLES));

  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    request.log.warn({ err: error }, 'request failed');
    // The gateway's refusals are worded for clients; anything else of ours stays in the log.
    const status = error instanceof GatewayApiError ? 502 : (error.statusCode ?? 500);
    const message = status < 500 || error instanceof GatewayApiError ? error.message : 'Something went wrong.';
    return reply.status(status).send({ error: { message } });
  });

  return app;
}
