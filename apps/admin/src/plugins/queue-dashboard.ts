import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queues } from '@ttc/queue';
import type { FastifyInstance } from 'fastify';
import { type AdminAuthenticator, requireAdmin } from './auth.js';

export const QUEUE_DASHBOARD_PATH = '/queues';

/** Job data keys that hold (encrypted) tokens: the dashboard shows that they are there, not what they are. */
const SECRET_KEY = /token|secret|ciphertext/i;

function redactJobData(data: unknown): unknown {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : v]));
}

/**
 * Bull Board at /queues for operators (inspect, retry, promote, clean jobs), behind admin auth: a bearer token or the
 * console session. Its UI cannot send our CSRF header, so its state-changing calls must be same-origin instead (on top
 * of the SameSite=Strict cookie).
 */
export async function queueDashboardPlugin(
  app: FastifyInstance,
  options: { queues: Queues; auth: AdminAuthenticator },
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: options.queues.all().map((queue) => {
      const adapter = new BullMQAdapter(queue);
      adapter.setFormatter('data', redactJobData);
      return adapter;
    }),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'TikTok connect' } },
  });
  const page = requireAdmin(options.auth, { csrf: 'same-origin-unsafe-methods', onMissing: 'login' });
  const api = requireAdmin(options.auth, { csrf: 'same-origin-unsafe-methods', onMissing: 'json' });
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      const guard = request.url.startsWith(`${QUEUE_DASHBOARD_PATH}/api/`) ? api : page;
      return guard.call(scope, request, reply, () => {});
    });
    // Bull Board's page gets the console's accessibility fixes for its UI (console/assets/queues-a11y.*).
    scope.addHook('onSend', async (_request, reply, payload) => {
      const type = reply.getHeader('content-type');
      if (typeof payload !== 'string' || typeof type !== 'string' || !type.startsWith('text/html')) return payload;
      return payload.replace(
        '</head>',
        '<link rel="stylesheet" href="/console/assets/queues-a11y.css">' +
          '<script type="module" src="/console/assets/queues-a11y.js"></script></head>',
      );
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  });
}
