import { Webhook } from 'standardwebhooks';

/** What the demo keeps of a webhook it accepted: no more than the page shows. */
export interface ReceivedWebhook {
  id: string;
  type: string;
  displayName: string | null;
  receivedAt: string;
}

/**
 * The demo's webhook receiver: every request is checked with `standardwebhooks` (the reference library of the
 * scheme the gateway signs with) against the raw body, as received; duplicates (same `webhook-id`: retries,
 * redeliveries) are kept once. The last 50 are kept in memory and announced to listeners (the page's live list).
 */
export class WebhookInbox {
  private readonly verifier: Webhook | null;
  readonly received: ReceivedWebhook[] = [];
  private readonly listeners = new Set<(w: ReceivedWebhook) => void>();

  constructor(secret: string | undefined) {
    this.verifier = secret ? new Webhook(secret) : null;
  }

  get enabled(): boolean {
    return this.verifier !== null;
  }

  /** Verifies and records one delivery; false when its signature or timestamp does not verify. */
  accept(rawBody: string, headers: Record<string, string | string[] | undefined>): boolean {
    if (this.verifier === null) return false;
    let event: { type: string; data?: { displayName?: string } };
    try {
      event = this.verifier.verify(rawBody, {
        'webhook-id': String(headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(headers['webhook-signature'] ?? ''),
      }) as typeof event; // throws on a bad signature or a timestamp more than 5 minutes off
    } catch {
      return false;
    }
    const id = String(headers['webhook-id']);
    if (this.received.some((w) => w.id === id)) return true; // a retry of one we have: deduplicate on webhook-id
    const received = {
      id,
      type: event.type,
      displayName: event.data?.displayName ?? null,
      receivedAt: new Date().toISOString(),
    };
    this.received.unshift(received);
    this.received.length = Math.min(this.received.length, 50);
    for (const listener of this.listeners) listener(received);
    return true;
  }

  subscribe(listener: (w: ReceivedWebhook) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
