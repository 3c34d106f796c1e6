/**
 * @ttc/connect-js: opens the hosted TikTok connect page in a popup from your page and hands you what the user
 * connected. No dependencies; no token ever reaches your page (only account ids, open ids, names and outcomes).
 *
 *   button.addEventListener('click', () => {
 *     openTikTokConnect({ url: () => createSessionOnYourServer(), onEvent: console.log, fallbackToRedirect: true })
 *       .then(({ results }) => showAccounts(results));
 *   });
 *
 * Call it inside the click handler: the popup is opened synchronously there, as Safari (and every popup blocker)
 * requires; a `url` function runs after the popup exists, and the popup is sent to its URL when it resolves.
 */

/** One account the user connected in the session. */
export interface TikTokConnectResult {
  accountId: string;
  openId: string;
  displayName: string;
  /** `added`: a new account; `reconnected`: one the user had already connected. */
  outcome: 'added' | 'reconnected';
}

export type TikTokConnectErrorCode =
  /** The browser refused to open the popup (then, with `fallbackToRedirect`, the page goes to the connect page). */
  | 'blocked_by_browser'
  /** The user closed the popup before clicking Done (the results so far are in the error). */
  | 'window_closed'
  /** The connect session ended (it lives 30 minutes by default) before the user finished. */
  | 'session_expired';

export type TikTokConnectEvent =
  | { type: 'opened'; sessionId: string }
  | { type: 'account'; sessionId: string; result: TikTokConnectResult; results: TikTokConnectResult[] }
  | { type: 'cancelled'; sessionId: string }
  | { type: 'closed'; sessionId: string; results: TikTokConnectResult[] }
  | { type: 'error'; sessionId: string | null; code: TikTokConnectErrorCode; results: TikTokConnectResult[] };

/** What your server returns after creating a connect session (`POST /v1/connect-sessions`): never the API key. */
export interface ConnectSessionLink {
  url: string;
  clientToken?: string;
}

export interface OpenTikTokConnectOptions {
  /**
   * The session's `url`, or a function that creates the session (on your server) and returns `{ url, clientToken }`:
   * the popup opens at once and goes to the URL when the function resolves.
   */
  url: string | (() => Promise<ConnectSessionLink>);
  /** The session's `clientToken`: lets the SDK read the results itself when the popup cannot post them. */
  clientToken?: string;
  onEvent?: (event: TikTokConnectEvent) => void;
  /** When the browser blocks the popup, send this page to the connect page instead (full-page redirect). */
  fallbackToRedirect?: boolean;
  /** How often to ask the gateway for the results when the popup's link to this page was cut (ms, default 2000). */
  pollIntervalMs?: number;
}

/** Why the connection did not finish; `results` holds what the user connected before that. */
export class TikTokConnectError extends Error {
  constructor(
    readonly code: TikTokConnectErrorCode,
    readonly results: TikTokConnectResult[],
  ) {
    super(`TikTok connect: ${code}`);
    this.name = 'TikTokConnectError';
  }
}

const MESSAGE_PREFIX = 'tiktok-connect:';
const WINDOW_NAME = 'tiktok-connect';
const SESSION_IN_URL = /\/connect\/(cs_[A-Za-z0-9_-]{22})\./;

interface PopupMessage {
  type: string;
  sessionId: string;
  results: TikTokConnectResult[];
}

function isResult(value: unknown): value is TikTokConnectResult {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.accountId === 'string' &&
    typeof v.openId === 'string' &&
    typeof v.displayName === 'string' &&
    (v.outcome === 'added' || v.outcome === 'reconnected')
  );
}

function parseMessage(data: unknown, sessionId: string): PopupMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  if (typeof d.type !== 'string' || !d.type.startsWith(MESSAGE_PREFIX) || d.sessionId !== sessionId) return null;
  const results = Array.isArray(d.results) ? d.results.filter(isResult) : [];
  return { type: d.type.slice(MESSAGE_PREFIX.length), sessionId, results };
}

/** The link with `display=popup` added to its query (the hosted page then reports to this page). */
function popupUrl(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('display', 'popup');
  return parsed.toString();
}

/** Centred on this window, phone-sized. */
function popupFeatures(): string {
  const width = 480;
  const height = 720;
  const left = Math.max(0, Math.round(window.screenX + (window.outerWidth - width) / 2));
  const top = Math.max(0, Math.round(window.screenY + (window.outerHeight - height) / 2));
  return `popup=yes,width=${width},height=${height},left=${left},top=${top}`;
}

/**
 * Opens the hosted connect page in a popup. Resolves with the session's results when the user clicks Done; rejects
 * with a {@link TikTokConnectError} (`blocked_by_browser`, `window_closed`, `session_expired`).
 *
 * Messages are accepted only from the gateway's origin (the origin of `url`), from the popup itself, and for this
 * session. When the popup's link to this page is cut (a Cross-Origin-Opener-Policy on either side, a browser
 * policy), the SDK asks the gateway for the results with the client token until the user is done.
 */
export function openTikTokConnect(options: OpenTikTokConnectOptions): Promise<{ results: TikTokConnectResult[] }> {
  const emit = (event: TikTokConnectEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // The app's handler failing must not break the connection.
    }
  };
  const direct = typeof options.url === 'string' ? options.url : null;
  // Synchronously, inside the click: a popup opened after an await is blocked by Safari and most blockers.
  const popup = window.open(direct === null ? 'about:blank' : popupUrl(direct), WINDOW_NAME, popupFeatures());

  return new Promise((resolve, reject) => {
    const seen: TikTokConnectResult[] = [];
    let sessionId: string | null = null;
    let settled = false;
    let linked = false;
    let watch: ReturnType<typeof setInterval> | undefined;
    let poll: ReturnType<typeof setTimeout> | undefined;
    let onMessage: ((event: MessageEvent) => void) | undefined;

    const cleanUp = () => {
      settled = true;
      if (watch !== undefined) clearInterval(watch);
      if (poll !== undefined) clearTimeout(poll);
      if (onMessage !== undefined) window.removeEventListener('message', onMessage);
    };
    const fail = (code: TikTokConnectErrorCode) => {
      if (settled) return;
      cleanUp();
      emit({ type: 'error', sessionId, code, results: [...seen] });
      reject(new TikTokConnectError(code, [...seen]));
    };
    const finish = () => {
      if (settled) return;
      cleanUp();
      emit({ type: 'closed', sessionId: sessionId as string, results: [...seen] });
      resolve({ results: [...seen] });
    };
    /** Every result of the session is sent each time, oldest first: the new ones are those past what was seen. */
    const absorb = (results: TikTokConnectResult[]) => {
      for (const result of results.slice(seen.length)) {
        seen.push(result);
        emit({ type: 'account', sessionId: sessionId as string, result, results: [...seen] });
      }
    };

    const start = (link: ConnectSessionLink) => {
      const match = SESSION_IN_URL.exec(new URL(link.url).pathname);
      sessionId = match?.[1] ?? null;
      const gatewayOrigin = new URL(link.url).origin;
      const clientToken = link.clientToken ?? options.clientToken;
      const id = sessionId as string;
      emit({ type: 'opened', sessionId: id });

      onMessage = (event: MessageEvent) => {
        // Only the gateway, only our popup, only this session.
        if (event.origin !== gatewayOrigin || (popup !== null && event.source !== popup)) return;
        const message = parseMessage(event.data, id);
        if (message === null) return;
        linked = true;
        absorb(message.results);
        if (message.type === 'cancelled') emit({ type: 'cancelled', sessionId: id });
        if (message.type === 'done') finish();
      };
      window.addEventListener('message', onMessage);

      /** One look at the session through the gateway: true when it is over (finished or expired). */
      const check = async (): Promise<boolean> => {
        if (clientToken === undefined || sessionId === null) return false;
        let res: Response;
        try {
          res = await fetch(`${gatewayOrigin}/v1/connect-sessions/${encodeURIComponent(id)}/result`, {
            headers: { authorization: `Bearer ${clientToken}` },
            credentials: 'omit',
            cache: 'no-store',
          });
        } catch {
          return false; // offline for a moment: ask again
        }
        if (settled) return true;
        if (res.status === 401 || res.status === 404) {
          fail('session_expired');
          return true;
        }
        if (!res.ok) return false;
        const body = (await res.json()) as { status?: string; results?: unknown[] };
        absorb(Array.isArray(body.results) ? body.results.filter(isResult) : []);
        if (body.status === 'finished') finish();
        else if (body.status === 'expired') fail('session_expired');
        return settled;
      };
      const keepPolling = async () => {
        if (settled) return;
        if (!(await check())) poll = setTimeout(keepPolling, options.pollIntervalMs ?? 2000);
      };

      watch = setInterval(() => {
        if (settled || (popup !== null && !popup.closed)) return;
        if (watch !== undefined) clearInterval(watch);
        watch = undefined;
        // Give a "done" posted just before the popup closed itself the time to arrive.
        setTimeout(async () => {
          if (settled) return;
          if (!linked && clientToken !== undefined) {
            // The popup never reached us: its link to this page is cut (or it closed before loading). The user may
            // still be in it: the gateway says when they are done.
            void keepPolling();
            return;
          }
          // It was talking to us, so it really closed: the gateway has the last word on how the session ended.
          if (!(await check())) fail('window_closed');
        }, 300);
      }, 500);
    };

    if (popup === null) {
      const target = direct;
      emit({ type: 'error', sessionId: null, code: 'blocked_by_browser', results: [] });
      settled = true;
      reject(new TikTokConnectError('blocked_by_browser', []));
      if (options.fallbackToRedirect) {
        // The same session (or a new one), as a full-page redirect: "Done" brings the user back to returnTo.
        const go = (url: string) => window.location.assign(url);
        if (target !== null) go(target);
        else if (typeof options.url === 'function')
          options.url().then(
            (link) => go(link.url),
            () => undefined,
          );
      }
      return;
    }

    if (direct !== null) {
      start({ url: direct, ...(options.clientToken !== undefined ? { clientToken: options.clientToken } : {}) });
      return;
    }
    (options.url as () => Promise<ConnectSessionLink>)().then(
      (link) => {
        if (popup.closed) {
          settled = true;
          emit({ type: 'error', sessionId: null, code: 'window_closed', results: [] });
          reject(new TikTokConnectError('window_closed', []));
          return;
        }
        popup.location.href = popupUrl(link.url);
        start(link);
      },
      (error: unknown) => {
        popup.close();
        settled = true;
        reject(error);
      },
    );
  });
}
