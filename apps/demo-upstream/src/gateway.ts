// The demo's client of the gateway's upstream API: server-side only, with the gateway API key. Nothing here ever
// reaches the browser but a connect session's `url` and `clientToken`.

export interface GatewayClientOptions {
  /** PUBLIC_GATEWAY_URL of the gateway, e.g. http://localhost:3000. */
  gatewayUrl: string;
  /** One of the gateway's GATEWAY_API_KEYS (read when needed: in development the gateway may create it later). */
  apiKey: () => string;
}

export interface Account {
  id: string;
  displayName: string;
  username: string | null;
  avatarUrl: string | null;
  status: 'ACTIVE' | 'REAUTH_REQUIRED' | 'DISCONNECTED';
  connectedAt: string;
}

export interface ConnectSession {
  id: string;
  url: string;
  expiresAt: string;
  clientToken: string;
}

export interface SessionResults {
  id: string;
  finishedAt: string | null;
  results: { accountId: string; displayName: string; outcome: 'added' | 'reconnected' }[];
}

/** A refusal of the gateway, with its stable `GW_…` code. */
export class GatewayApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function gatewayClient({ gatewayUrl, apiKey }: GatewayClientOptions) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${gatewayUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    if (!res.ok) {
      throw new GatewayApiError(res.status, json.error?.code ?? 'GW_UNKNOWN', json.error?.message ?? res.statusText);
    }
    return json as T;
  }

  return {
    // A one-time link to the connect page for this user; `display: 'popup'` for the browser SDK.
    createConnectSession: (userId: string, returnTo: string, display: 'popup' | 'page') =>
      call<ConnectSession>('POST', '/v1/connect-sessions', { userId, returnTo, display }),

    // What happened in a session (after a redirect connection, `returnTo?connect_session_id=…`).
    sessionResults: (sessionId: string) =>
      call<SessionResults>('GET', `/v1/connect-sessions/${encodeURIComponent(sessionId)}`),

    // The user's accounts, every status (never a token).
    listAccounts: (userId: string) =>
      call<{ accounts: Account[] }>('GET', `/v1/users/${encodeURIComponent(userId)}/accounts`),

    // A valid access token, refreshed first when it is about to expire. Server-side only.
    accessToken: (accountId: string) =>
      call<{ accessToken: string; expiresAt: string }>(
        'GET',
        `/v1/accounts/${encodeURIComponent(accountId)}/access-token`,
      ),
  };
}

export type GatewayClient = ReturnType<typeof gatewayClient>;
