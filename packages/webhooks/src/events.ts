/** Every webhook event type, as sent in the body's `type`. */
export const WEBHOOK_EVENT_TYPES = [
  'account.connected',
  'account.reconnected',
  'account.disconnected',
  'account.reauth_required',
  'account.recovered',
  'account.refresh_token_expiring',
  'user.erased',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Who disconnected an account (`data.actor` of `account.disconnected`). */
export type WebhookActor = 'user' | 'upstream' | 'admin';

/** `data` of every `account.*` event: the public view of the account. Never a token or ciphertext. */
export interface AccountWebhookData {
  accountId: string;
  userId: string;
  openId: string;
  displayName: string;
  username: string | null;
  avatarUrl: string | null;
  status: 'ACTIVE' | 'REAUTH_REQUIRED' | 'DISCONNECTED';
  scopes: string[];
  /** `account.connected` / `account.reconnected`: the connect session the connection came from. */
  connectSessionId?: string;
  /** `account.disconnected`: why (free text given by the actor, or null). */
  reason?: string | null;
  /** `account.disconnected`: who. */
  actor?: WebhookActor | 'system';
  occurredAt: string;
}

/** `data` of `user.erased`. */
export interface UserErasedWebhookData {
  userId: string;
  erasedAccounts: number;
  occurredAt: string;
}

/** The JSON body of every delivery. */
export interface WebhookBody {
  type: WebhookEventType;
  /** When the event was recorded (ISO-8601). */
  timestamp: string;
  data: AccountWebhookData | UserErasedWebhookData;
}
