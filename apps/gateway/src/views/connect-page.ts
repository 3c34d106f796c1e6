import { html, type SafeHtml } from './html.js';
import { layout, type PopupMessage } from './layout.js';

/** What the page shows of an account: never tokens. */
export interface AccountView {
  id: string;
  displayName: string;
  username: string | null;
  avatarUrl: string | null;
  status: 'ACTIVE' | 'REAUTH_REQUIRED' | 'DISCONNECTED';
  connectedAt: Date;
  disconnectedAt?: Date | null;
}

export interface Banner {
  tone: 'success' | 'info' | 'warning' | 'error';
  title: string;
  text?: string;
}

export interface ConnectPageOptions {
  accounts: AccountView[];
  banner?: Banner | undefined;
  csrfToken: string;
  returnTo: string;
  /** The worker has not reported yet: refresh the page every 2 seconds. */
  waiting?: boolean;
  /** The account the upstream app asked this session to re-authorize: offered first ("Reconnect @name"). */
  reconnectAccountId?: string | null;
  /** The reader's language (`Accept-Language`), for dates. */
  locale?: string | undefined;
  /** Popup mode: what the page tells the window that opened it. */
  popup?: PopupMessage | undefined;
}

export const ANOTHER_ACCOUNT_HINT =
  "Want to add a different TikTok account? On TikTok's page choose 'Use another account', or sign out of TikTok first.";

/** Date and time with the time zone named: the server cannot know the reader's zone, so it is UTC, said so. */
const DATE_OPTIONS: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZone: 'UTC',
  timeZoneName: 'short',
};
const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * The first language of an `Accept-Language` header that Intl supports, else `en`. Formatters are kept per language
 * (a few dozen at most: only supported tags are keys).
 */
export function dateFormatFor(acceptLanguage: string | undefined): Intl.DateTimeFormat {
  let locale = 'en';
  for (const part of (acceptLanguage ?? '').split(',').slice(0, 8)) {
    const tag = part.split(';')[0]?.trim() ?? '';
    if (!/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(tag)) continue;
    try {
      const supported = Intl.DateTimeFormat.supportedLocalesOf([tag])[0];
      if (supported) {
        locale = supported;
        break;
      }
    } catch {
      // not a valid tag: try the next one
    }
  }
  let format = formats.get(locale);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(locale, DATE_OPTIONS);
    if (formats.size < 200) formats.set(locale, format);
  }
  return format;
}

/** Only http(s) images are rendered; anything else falls back to an initial. */
function safeImageUrl(url: string | null): string | null {
  if (url === null) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : null;
  } catch {
    return null;
  }
}

/** "Ava Lee (@ava)" or just the name when TikTok did not give a username. */
export function accountLabel(displayName: string, username: string | null): string {
  const name = displayName.trim() === '' ? 'TikTok account' : displayName;
  return username ? `${name} (@${username})` : name;
}

function statusBadge(status: AccountView['status']): SafeHtml {
  switch (status) {
    case 'ACTIVE':
      return html`<span class="badge badge-active">Active</span>`;
    case 'REAUTH_REQUIRED':
      return html`<span class="badge badge-reauth">Needs reconnecting</span>`;
    case 'DISCONNECTED':
      return html`<span class="badge badge-disconnected">Disconnected</span>`;
  }
}

function avatar(account: AccountView): SafeHtml {
  const src = safeImageUrl(account.avatarUrl);
  const name = account.displayName.trim() === '' ? 'TikTok account' : account.displayName;
  if (src) {
    return html`<img class="avatar" src="${src}" alt="Profile picture of ${name}" width="48" height="48" loading="lazy" referrerpolicy="no-referrer">`;
  }
  return html`<span class="avatar avatar-fallback" role="img" aria-label="Profile picture of ${name}">${name.slice(0, 1).toUpperCase()}</span>`;
}

/** "@username", or the display name when TikTok gave no username. */
function handle(account: AccountView): string {
  if (account.username) return `@${account.username}`;
  return account.displayName.trim() === '' ? 'TikTok account' : account.displayName;
}

/** A form that starts TikTok's authorization to re-authorize one account (CSRF-checked, no JavaScript). */
function reconnectForm(account: AccountView, csrfToken: string, label: string, className: string): SafeHtml {
  return html`<form class="inline" method="post" action="/connect/accounts/${account.id}/reconnect">
<input type="hidden" name="csrf" value="${csrfToken}">
<button type="submit" class="${className}"${label === 'Reconnect' ? html` aria-label="Reconnect ${handle(account)}"` : ''}>${label}</button>
</form>`;
}

/** The account the upstream app sent the user to re-authorize, above the list. */
function reconnectCard(account: AccountView, csrfToken: string): SafeHtml {
  const label = accountLabel(account.displayName, account.username);
  const why =
    account.status === 'ACTIVE'
      ? 'Sign in to TikTok again to renew its connection.'
      : 'TikTok no longer accepts its connection: sign in to TikTok again to restore it.';
  return html`<section class="card reconnect" aria-labelledby="reconnect-title">
<h2 id="reconnect-title">Reconnect ${label}</h2>
<p>${why} On TikTok's page, make sure you sign in as ${handle(account)}.</p>
${reconnectForm(account, csrfToken, `Reconnect ${handle(account)}`, 'button button-primary')}
</section>`;
}

function dateMarkup(date: Date, format: Intl.DateTimeFormat): SafeHtml {
  return html`<time datetime="${date.toISOString()}">${format.format(date)}</time>`;
}

function accountItem(account: AccountView, csrfToken: string, format: Intl.DateTimeFormat): SafeHtml {
  const name = account.displayName.trim() === '' ? 'TikTok account' : account.displayName;
  const when =
    account.status === 'DISCONNECTED'
      ? html`Disconnected ${account.disconnectedAt ? dateMarkup(account.disconnectedAt, format) : ''}`
      : html`Connected ${dateMarkup(account.connectedAt, format)}`;
  return html`<li class="account" data-account-id="${account.id}">
${avatar(account)}
<div class="account-main">
<div class="account-name">${name}${statusBadge(account.status)}</div>
<div class="account-meta">${account.username ? html`@${account.username} · ` : ''}${when}</div>
</div>
${account.status !== 'ACTIVE' ? reconnectForm(account, csrfToken, 'Reconnect', `button button-small${account.status === 'REAUTH_REQUIRED' ? ' button-primary' : ''}`) : ''}
${
  account.status === 'DISCONNECTED'
    ? ''
    : html`<form class="inline" method="post" action="/connect/accounts/${account.id}/disconnect">
<input type="hidden" name="csrf" value="${csrfToken}">
<button type="submit" class="button button-small button-danger" aria-label="Disconnect ${name}">Disconnect</button>
</form>`
}
</li>`;
}

function bannerMarkup(banner: Banner): SafeHtml {
  // Errors interrupt (alert); successes and progress are announced politely (status).
  const role = banner.tone === 'error' || banner.tone === 'warning' ? 'alert' : 'status';
  return html`<div class="banner banner-${banner.tone}" role="${role}">
<strong>${banner.title}</strong>${banner.text ? html`<p>${banner.text}</p>` : ''}
</div>`;
}

/** One group of accounts under its heading; nothing at all when the group is empty (but the active one). */
function accountGroup(
  id: string,
  title: string,
  accounts: AccountView[],
  options: ConnectPageOptions,
  format: Intl.DateTimeFormat,
  note?: string,
): SafeHtml {
  return html`<section aria-labelledby="${id}">
<h2 id="${id}">${title}</h2>
${note ? html`<p class="group-note">${note}</p>` : ''}
<ul class="accounts">${accounts.map((a) => accountItem(a, options.csrfToken, format))}</ul>
</section>`;
}

/**
 * The hosted connect page: the user's TikTok accounts in three groups (connected, needing reconnection,
 * disconnected: these can be reconnected and are never called connected), add another, disconnect, done.
 */
export function renderConnectPage(options: ConnectPageOptions): string {
  const visible = options.accounts;
  const format = dateFormatFor(options.locale);
  const active = visible.filter((a) => a.status === 'ACTIVE');
  const reauth = visible.filter((a) => a.status === 'REAUTH_REQUIRED');
  const disconnected = visible.filter((a) => a.status === 'DISCONNECTED');
  const connected = visible.filter((a) => a.status !== 'DISCONNECTED');
  const primaryLabel = connected.length === 0 ? 'Connect a TikTok account' : 'Add another account';
  let appHost = 'the app';
  try {
    appHost = new URL(options.returnTo).host;
  } catch {
    // returnTo was validated when the session was created; keep the neutral wording if it ever is not a URL.
  }
  const target =
    options.reconnectAccountId == null ? undefined : visible.find((a) => a.id === options.reconnectAccountId);
  const body = html`${options.banner ? bannerMarkup(options.banner) : ''}
<h1>Your TikTok accounts</h1>
<p class="lead">Connect the TikTok accounts you want to use with ${appHost}. You can connect several.</p>
${target ? reconnectCard(target, options.csrfToken) : ''}
${
  active.length === 0
    ? html`<section aria-labelledby="accounts-title">
<h2 id="accounts-title">Connected accounts</h2>
<p class="empty">${connected.length === 0 ? 'No TikTok account is connected yet.' : 'No account is working right now.'}</p>
</section>`
    : accountGroup('accounts-title', 'Connected accounts', active, options, format)
}
${
  reauth.length > 0
    ? accountGroup(
        'reauth-title',
        'Need reconnecting',
        reauth,
        options,
        format,
        'TikTok no longer accepts these connections: reconnect them to keep using them.',
      )
    : ''
}
${
  disconnected.length > 0
    ? accountGroup(
        'disconnected-title',
        'Disconnected',
        disconnected,
        options,
        format,
        'The app can no longer use these accounts. Reconnect one to use it again.',
      )
    : ''
}
<div class="actions">
<form class="inline" method="get" action="/connect/tiktok">
<button type="submit" class="button button-primary">${primaryLabel}</button>
</form>
<a class="button" href="/connect/done?csrf=${encodeURIComponent(options.csrfToken)}">Done</a>
</div>
<p class="hint">${ANOTHER_ACCOUNT_HINT}</p>`;
  return layout({
    title: 'Your TikTok accounts',
    body,
    popup: options.popup,
    ...(options.waiting ? { refreshSeconds: 2 } : {}),
  });
}

export interface ConfirmDisconnectOptions {
  account: AccountView;
  csrfToken: string;
}

/** Second step of a disconnect, so one stray click never cuts an account off (works without JavaScript). */
export function renderConfirmDisconnectPage({ account, csrfToken }: ConfirmDisconnectOptions): string {
  const label = accountLabel(account.displayName, account.username);
  const body = html`<div class="card">
<h1>Disconnect ${label}?</h1>
<p>The app will no longer be able to use this TikTok account. You can connect it again at any time.</p>
<div class="actions">
<form class="inline" method="post" action="/connect/accounts/${account.id}/disconnect">
<input type="hidden" name="csrf" value="${csrfToken}">
<input type="hidden" name="confirm" value="yes">
<button type="submit" class="button button-primary">Yes, disconnect</button>
</form>
<a class="button" href="/connect">Cancel</a>
</div>
</div>`;
  return layout({ title: `Disconnect ${label}?`, body });
}
