/**
 * The connect flow over plain HTTP, as a browser without JavaScript does it: connect session (upstream app) → one-time
 * link → "Connect a TikTok account" → the sandbox's login and consent forms → the gateway's callback → the connect page
 * with the outcome. For tests that run hundreds of connections against real processes, where Chromium would be too
 * slow; the browser tests cover the pages themselves.
 */

export interface HttpExchange {
  method: string;
  url: string;
  status: number;
}

export interface HttpAnswer {
  status: number;
  location: string | null;
  body: string;
  /** The `Retry-After` header, when there is one. */
  retryAfter: string | null;
}

/** Cookies per origin (names and values only: every cookie these apps set is for `/`), no redirects followed. */
export class HttpBrowser {
  private readonly jars = new Map<string, Map<string, string>>();

  constructor(
    private readonly options: {
      /** Sent as `X-Forwarded-For` (a gateway with TRUST_PROXY then rate-limits each simulated user on its own). */
      forwardedFor?: string;
      /** Every answer, for checks such as "no 500 anywhere". */
      onExchange?: (exchange: HttpExchange) => void;
      timeoutMs?: number;
    } = {},
  ) {}

  async request(
    url: string,
    init: { method?: string; form?: URLSearchParams; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<HttpAnswer> {
    const target = new URL(url);
    const jar = this.jars.get(target.host) ?? new Map<string, string>();
    this.jars.set(target.host, jar);
    const headers: Record<string, string> = { ...init.headers };
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.options.forwardedFor) headers['x-forwarded-for'] = this.options.forwardedFor;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = init.form.toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const method = init.method ?? (body === undefined ? 'GET' : 'POST');
    const res = await fetch(target, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
    const text = await res.text();
    this.options.onExchange?.({ method, url: `${target.origin}${target.pathname}`, status: res.status });
    const location = res.headers.get('location');
    return {
      status: res.status,
      location: location === null ? null : new URL(location, target).toString(),
      body: text,
      retryAfter: res.headers.get('retry-after'),
    };
  }
}

/** A step of the flow answered something else than the flow needs. */
export class ConnectFlowError extends Error {
  constructor(
    readonly step: string,
    readonly status: number,
    detail: string,
    /** Set when the callback had already answered with a pending result (the code was exchanged and enqueued). */
    readonly enqueued?: { sessionId: string; resultId: string },
  ) {
    super(`connect flow: ${step} answered ${status}${detail ? `: ${detail}` : ''}`);
  }
}

export interface ConnectFlowOptions {
  gatewayUrl: string;
  apiKey: string;
  userId: string;
  /** The sandbox account to log in as on TikTok's page. */
  openId: string;
  returnTo: string;
  browser?: HttpBrowser;
  /** How many times to load the connect page while it says the account is being added (it reloads itself). */
  pageLoads?: number;
  /**
   * Default true: wait for the outcome (the page's reloads, then the session's record). False: load the result page
   * once and return as soon as the callback has enqueued the connection (`outcome` is then absent).
   */
  settle?: boolean;
}

export interface ConnectFlowResult {
  sessionId: string;
  resultId: string;
  outcome?: 'added' | 'reconnected';
  accountId?: string;
  /** `settle: false` only: the result page said the connection failed (the user is asked to try again). */
  failed?: boolean;
}

const decode = (value: string) =>
  value.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? '',
  );

/** The named inputs (hidden ones and checked checkboxes) of the form posting to `action` in `html`. */
function formFields(html: string, action: string): URLSearchParams {
  const start = html.indexOf(`action="${action}"`);
  if (start === -1) throw new Error(`no form posting to ${action}`);
  const form = html.slice(start, html.indexOf('</form>', start));
  const fields = new URLSearchParams();
  for (const [input] of form.matchAll(/<input [^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(input)?.[1];
    const value = /value="([^"]*)"/.exec(input)?.[1];
    if (name === undefined || value === undefined) continue;
    if (/type="checkbox"/.test(input) && !/\bchecked\b/.test(input)) continue;
    fields.append(decode(name), decode(value));
  }
  return fields;
}

function expect(
  answer: HttpAnswer,
  step: string,
  statuses: number[],
  enqueued?: { sessionId: string; resultId: string },
): HttpAnswer {
  if (!statuses.includes(answer.status)) {
    throw new ConnectFlowError(step, answer.status, answer.body.slice(0, 200), enqueued);
  }
  return answer;
}

/**
 * One connection, start to finish, through the real gateway and sandbox. Throws {@link ConnectFlowError} naming the
 * step that did not answer as a working system does (a 503 while a dependency is down, a 429, …).
 */
export async function connectOverHttp(o: ConnectFlowOptions): Promise<ConnectFlowResult> {
  const browser = o.browser ?? new HttpBrowser();
  const auth = { authorization: `Bearer ${o.apiKey}` };
  const created = expect(
    await browser.request(`${o.gatewayUrl}/v1/connect-sessions`, {
      json: { userId: o.userId, returnTo: o.returnTo },
      headers: auth,
    }),
    'create session',
    [201],
  );
  const session = JSON.parse(created.body) as { id: string; url: string };
  expect(await browser.request(session.url), 'open link', [302, 303]);
  const start = expect(await browser.request(`${o.gatewayUrl}/connect/tiktok`), 'start', [302]);
  const authorizeUrl = start.location as string;
  const sandbox = new URL(authorizeUrl).origin;

  // TikTok's login page (this browser has no TikTok session), then its consent page.
  const login = expect(await browser.request(authorizeUrl), 'tiktok authorize', [200]);
  const loginFields = formFields(login.body, '/v2/auth/login/');
  loginFields.set('open_id', o.openId);
  const loggedIn = expect(
    await browser.request(`${sandbox}/v2/auth/login/`, { form: loginFields }),
    'tiktok login',
    [303],
  );
  const consent = expect(await browser.request(loggedIn.location as string), 'tiktok consent page', [200]);
  const consentFields = formFields(consent.body, '/v2/auth/authorize/');
  consentFields.set('decision', 'authorize');
  const authorized = expect(
    await browser.request(`${sandbox}/v2/auth/authorize/`, { form: consentFields }),
    'tiktok consent',
    [303],
  );

  const callback = expect(await browser.request(authorized.location as string), 'callback', [302, 303]);
  const resultId = new URL(callback.location as string).searchParams.get('result');
  if (!resultId) throw new ConnectFlowError('callback', callback.status, `redirected to ${callback.location}`);
  const enqueued = { sessionId: session.id, resultId };

  if (o.settle === false) {
    const page = expect(
      await browser.request(`${o.gatewayUrl}/connect?result=${resultId}`),
      'result page',
      [200],
      enqueued,
    );
    return { sessionId: session.id, resultId, failed: page.body.includes('banner-error') };
  }
  // The page waits for the worker, then says "Adding…" and reloads itself: a user's browser does the same.
  for (let load = 0; load < (o.pageLoads ?? 30); load++) {
    const page = expect(
      await browser.request(`${o.gatewayUrl}/connect?result=${resultId}`),
      'result page',
      [200],
      enqueued,
    );
    if (!page.body.includes('http-equiv="refresh"')) break;
    await new Promise((r) => setTimeout(r, 2_000));
  }
  const record = expect(
    await browser.request(`${o.gatewayUrl}/v1/connect-sessions/${session.id}`, { headers: auth }),
    'read session',
    [200],
    enqueued,
  );
  const results = (JSON.parse(record.body) as { results: { accountId: string; outcome: string }[] }).results;
  const done = results.at(-1);
  if (!done || (done.outcome !== 'added' && done.outcome !== 'reconnected')) {
    throw new ConnectFlowError('outcome', 200, `session results: ${record.body.slice(0, 300)}`, enqueued);
  }
  return { sessionId: session.id, resultId, outcome: done.outcome, accountId: done.accountId };
}
