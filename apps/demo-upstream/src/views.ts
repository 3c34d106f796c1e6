import type { Account } from './gateway.js';
import type { ReceivedWebhook } from './webhooks.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

const STATUS: Record<Account['status'], string> = {
  ACTIVE: 'Active',
  REAUTH_REQUIRED: 'Needs reconnecting',
  DISCONNECTED: 'Disconnected',
};

/** The list of the user's accounts (also served alone at `GET /accounts`, for the page to refresh it). */
export function accountsFragment(accounts: Account[] | { error: string }): string {
  if ('error' in accounts) return `<p class="notice notice-error" role="alert">${esc(accounts.error)}</p>`;
  if (accounts.length === 0) return '<p class="empty">No TikTok account connected yet.</p>';
  const items = accounts.map((a) => {
    const name = a.displayName.trim() === '' ? 'TikTok account' : a.displayName;
    const token =
      a.status === 'ACTIVE'
        ? `<form method="post" action="/accounts/${esc(a.id)}/access-token"><button type="submit" class="button" aria-label="Get access token for ${esc(name)}">Get access token</button></form>`
        : '';
    return `<li class="account" data-account-id="${esc(a.id)}" data-status="${a.status}">
<div><span class="account-name">${esc(name)}</span>${a.username ? ` <span class="muted">@${esc(a.username)}</span>` : ''}
<span class="badge badge-${a.status.toLowerCase()}">${STATUS[a.status]}</span></div>${token}</li>`;
  });
  return `<ul class="accounts">${items.join('')}</ul>`;
}

export function webhookItem(w: ReceivedWebhook): string {
  const who = w.displayName ? ` · ${esc(w.displayName)}` : '';
  return `<li data-webhook-type="${esc(w.type)}"><code>${esc(w.type)}</code>${who} <span class="muted">· signature verified · <time datetime="${esc(w.receivedAt)}">${esc(w.receivedAt.slice(11, 19))} UTC</time></span></li>`;
}

export interface HomeOptions {
  userId: string;
  gatewayUrl: string;
  accounts: Account[] | { error: string };
  webhooks: ReceivedWebhook[];
  webhooksEnabled: boolean;
  notice?: { tone: 'ok' | 'error'; text: string } | undefined;
}

/** "Your TikTok accounts": the whole integration on one page. */
export function homePage(o: HomeOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your TikTok accounts · Demo app</title>
<link rel="stylesheet" href="/app.css">
<script src="${esc(o.gatewayUrl)}/sdk/connect.js" defer></script>
<script src="/app.js" defer></script>
</head>
<body>
<header class="top"><strong>Demo app</strong> <span class="muted">signed in as ${esc(o.userId)}</span></header>
<main>
<h1>Your TikTok accounts</h1>
<div id="notice" role="status">${o.notice ? `<p class="notice notice-${o.notice.tone}">${esc(o.notice.text)}</p>` : ''}</div>
<section aria-labelledby="accounts-title">
<h2 id="accounts-title">Accounts</h2>
<div id="accounts">${accountsFragment(o.accounts)}</div>
<div class="actions">
<button type="button" id="connect" class="button button-primary">Connect TikTok accounts</button>
<a href="/connect/redirect">Connect without a popup</a>
</div>
</section>
<section aria-labelledby="events-title">
<h2 id="events-title">What the connect popup reported</h2>
<ol id="events" class="log"></ol>
</section>
<section aria-labelledby="webhooks-title">
<h2 id="webhooks-title">Webhooks received</h2>
${o.webhooksEnabled ? '' : '<p class="muted">No WEBHOOK_SECRET set: webhooks are refused.</p>'}
<ol id="webhooks" class="log">${o.webhooks.map(webhookItem).join('')}</ol>
</section>
</main>
</body>
</html>
`;
}

export const STYLES = `
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1a1d23; background: #f7f7f8; }
.top { padding: .75rem 1rem; background: #fff; border-bottom: 1px solid #e2e4e8; }
main { max-width: 44rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.muted { color: #555b66; }
.accounts { list-style: none; padding: 0; margin: 0; display: grid; gap: .5rem; }
.account { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; justify-content: space-between;
  background: #fff; border: 1px solid #e2e4e8; border-radius: 10px; padding: .75rem; overflow-wrap: anywhere; }
.account form { margin: 0; }
.account-name { font-weight: 600; }
.badge { font-size: .8rem; font-weight: 600; border-radius: 999px; padding: .1rem .5rem; margin-left: .25rem; }
.badge-active { background: #e3f5e8; color: #14532d; }
.badge-reauth_required { background: #fff1d6; color: #6b3e00; }
.badge-disconnected { background: #e8e9ec; color: #3d424b; }
.actions { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin-top: 1rem; }
.button { font: inherit; font-weight: 600; border-radius: 8px; border: 1px solid #c9ccd3; background: #fff;
  color: #1a1d23; padding: .55rem 1rem; min-height: 44px; cursor: pointer; }
.button-primary { background: #111318; border-color: #111318; color: #fff; }
:focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; }
a { color: #1d4ed8; }
.notice { border-radius: 8px; padding: .6rem .8rem; margin: 0 0 1rem; }
.notice-ok { background: #e3f5e8; color: #14532d; }
.notice-error { background: #fde8ea; color: #8f1d2c; }
.empty { color: #555b66; }
.log { padding-left: 1.25rem; margin: 0; overflow-wrap: anywhere; }
code { font-size: .9em; }
`.trim();
