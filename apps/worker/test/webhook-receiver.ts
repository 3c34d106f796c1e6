import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

/** One request a test receiver got: the raw body (what the signature covers) and the headers. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
}

/** What the receiver answers: a status, or `hold` (never answer: the sender is killed meanwhile). */
export type ReceiverAnswer = number | 'hold';

export interface TestReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1:0; `answer` decides each response (default 204). */
export async function startReceiver(
  answer: (request: ReceivedWebhook, index: number) => ReceiverAnswer = () => 204,
): Promise<TestReceiver> {
  const received: ReceivedWebhook[] = [];
  const held: ServerResponse[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const request = { headers: req.headers, body, json: JSON.parse(body) as ReceivedWebhook['json'] };
      const index = received.push(request) - 1;
      const a = answer(request, index);
      if (a === 'hold') held.push(res);
      else res.writeHead(a).end();
      for (const w of waiters.filter((x) => received.length >= x.count)) w.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    waitFor(count, timeoutMs = 20_000) {
      if (received.length >= count) return Promise.resolve(received);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`receiver got ${received.length} of ${count} requests in time`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(received);
          },
        });
      });
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
