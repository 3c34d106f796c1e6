import { signatureHeader } from './sign.js';

/** One signed HTTP attempt and what came of it. */
export interface SendResult {
  /** The HTTP status, or null when no answer came (network error, timeout). */
  status: number | null;
  latencyMs: number;
  /** A short, secret-free description of a failure (status line or error code); null on 2xx. */
  error: string | null;
}

export interface SendOptions {
  url: string;
  /** `webhook-id`: the event id, the same for every attempt. */
  id: string;
  /** Seconds since the epoch; signed, so it is the time of this attempt. */
  timestampSeconds: number;
  body: string;
  secrets: readonly string[];
  /** Default 10 s. */
  timeoutMs?: number;
  /** Default the global fetch (Node 20). */
  fetch?: typeof fetch;
}

/**
 * POSTs one Standard Webhooks message: headers `webhook-id`, `webhook-timestamp`, `webhook-signature`,
 * `content-type: application/json`. Never throws for a failed delivery: the result says what happened. Redirects
 * are not followed (a 3xx is a failure): the signature is for this URL.
 */
export async function sendWebhook(o: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const res = await (o.fetch ?? fetch)(o.url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'tiktok-multi-connect-webhooks/1',
        'webhook-id': o.id,
        'webhook-timestamp': String(o.timestampSeconds),
        'webhook-signature': signatureHeader(o.secrets, o.id, o.timestampSeconds, o.body),
      },
      body: o.body,
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
    // The body is not read: it is the receiver's, may be large, and must not end up in our logs.
    await res.body?.cancel().catch(() => undefined);
    const ok = res.status >= 200 && res.status < 300;
    return { status: res.status, latencyMs: latency(), error: ok ? null : `HTTP ${res.status}` };
  } catch (error) {
    return { status: null, latencyMs: latency(), error: describeNetworkError(error) };
  }
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timeout';
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `network error: ${cause.code}`;
  return 'network error';
}
