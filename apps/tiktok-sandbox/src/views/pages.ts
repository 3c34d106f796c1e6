import type { SandboxUser } from '../types.js';
import type { SandboxUserProfile } from '../users.js';
import { escapeHtml, hiddenInputs, layout } from './html.js';

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  'user.info.basic': 'Read your profile info (avatar, display name)',
  'user.info.profile': 'Read your profile details (username, bio, verified status)',
  'user.info.stats': 'Read your statistics (followers, likes, videos)',
  'video.list': 'Read your public videos',
  'video.publish': 'Post content to your TikTok account',
  'video.upload': 'Upload content to your TikTok drafts',
};

/** Scopes the user cannot untick on the consent page. */
export const MANDATORY_SCOPES: ReadonlySet<string> = new Set(['user.info.basic']);

export function loginPage(p: {
  appName: string;
  users: readonly SandboxUser[];
  current?: SandboxUser | undefined;
  carry: URLSearchParams;
}): string {
  const current = p.current
    ? `<form method="post" action="/v2/auth/logout/">
${hiddenInputs(p.carry)}
<p class="muted">Currently logged in as ${escapeHtml(p.current.displayName)} (@${escapeHtml(p.current.username)}).
<button type="submit">Log out</button></p>
</form>`
    : '';
  const buttons = p.users
    .map(
      (u) =>
        `<li><button type="submit" class="user" name="open_id" value="${escapeHtml(u.openId)}">` +
        `<img src="${escapeHtml(u.avatarUrl)}" alt="" width="40" height="40">` +
        `<span>Log in as ${escapeHtml(u.displayName)}</span></button></li>`,
    )
    .join('\n');
  return layout(
    'Log in | TikTok',
    `<h1>Log in to TikTok</h1>
<p class="sub">to continue to <strong>${escapeHtml(p.appName)}</strong>. Choose a sandbox account.</p>
${current}
<form method="post" action="/v2/auth/login/">
${hiddenInputs(p.carry)}
<ul class="users">
${buttons}
</ul>
</form>`,
  );
}

export function consentPage(p: {
  appName: string;
  user: SandboxUser;
  scopes: readonly string[];
  carry: URLSearchParams;
}): string {
  const scopeItems = p.scopes
    .map((scope, i) => {
      const description = SCOPE_DESCRIPTIONS[scope] ?? scope;
      const id = `scope-${i}`;
      if (MANDATORY_SCOPES.has(scope)) {
        // A disabled checkbox is not submitted; the server adds mandatory scopes itself.
        return `<label for="${id}"><input type="checkbox" id="${id}" checked disabled> <span>${escapeHtml(description)} <span class="muted">(${escapeHtml(scope)}, required)</span></span></label>`;
      }
      return `<label for="${id}"><input type="checkbox" id="${id}" name="granted_scope" value="${escapeHtml(scope)}" checked> <span>${escapeHtml(description)} <span class="muted">(${escapeHtml(scope)})</span></span></label>`;
    })
    .join('\n');
  return layout(
    'Authorize | TikTok',
    `<h1>${escapeHtml(p.appName)} would like to access your TikTok account</h1>
<div class="account">
<img src="${escapeHtml(p.user.avatarUrl)}" alt="" width="40" height="40">
<div><div class="name">${escapeHtml(p.user.displayName)}</div><div class="muted">@${escapeHtml(p.user.username)}</div></div>
</div>
<form method="post" action="/v2/auth/authorize/">
${hiddenInputs(p.carry)}
<fieldset>
<legend>Permissions</legend>
${scopeItems}
</fieldset>
<div class="actions">
<!-- Authorize comes first so that Enter submits it; the row is reversed visually. -->
<button type="submit" class="primary" name="decision" value="authorize">Authorize</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</div>
</form>
<form method="get" action="/v2/auth/login/" class="switch">
${hiddenInputs(p.carry)}
<p class="muted">Not ${escapeHtml(p.user.displayName)}?</p>
<button type="submit">Use another account</button>
</form>`,
  );
}

/** TikTok's wording when the authorize request itself is wrong (it cannot redirect back). */
export function errorPage(p: { problems: readonly string[] }): string {
  const list = p.problems.map((x) => `<li>${escapeHtml(x)}</li>`).join('\n');
  return layout(
    'Something went wrong | TikTok',
    `<h1>Something went wrong</h1>
<p>We couldn't log in with TikTok. This may be due to specific app settings.</p>
<p>If you're a developer, correct the following and try again:</p>
<ul class="problems">
${list}
</ul>`,
  );
}

export function noticePage(title: string, message: string): string {
  return layout(`${title} | TikTok`, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

/** The sandbox's root URL: what it is, how to point a TikTok client at it, and the accounts one can log in as. */
export function homePage(p: {
  baseUrl: string;
  clientKey: string;
  appName: string;
  users: readonly SandboxUserProfile[];
}): string {
  const base = escapeHtml(p.baseUrl);
  const users = p.users
    .map(
      (u) =>
        `<li class="user"><img src="${escapeHtml(u.avatarUrl)}" alt="" width="40" height="40">` +
        `<span><span class="name">${escapeHtml(u.displayName)}</span> <span class="muted">@${escapeHtml(u.username)}</span>` +
        `<br><span class="muted">open_id <code>${escapeHtml(u.openId)}</code></span></span></li>`,
    )
    .join('\n');
  return layout(
    'TikTok sandbox',
    `<h1>TikTok sandbox</h1>
<p>A local stand-in for TikTok's login and consent pages and its OAuth and user info API, for development and tests.
It behaves as TikTok documents, including the problem this project exists for: a browser already logged in to TikTok
is sent back with the same account, without any page, unless the app asks with <code>disable_auto_auth=1</code>.</p>
<h2>How to use it</h2>
<ol>
<li>Start a connection from the app (with <code>pnpm dev</code>: the gateway's <code>/dev</code> page, then
<strong>Connect a TikTok account</strong>). You land on this sandbox's login page.</li>
<li>Log in as any user below, then authorize <strong>${escapeHtml(p.appName)}</strong>. To add another account,
choose <strong>Use another account</strong> on the consent page.</li>
<li>To point another TikTok client here: <code>TIKTOK_AUTH_URL=${base}/v2/auth/authorize/</code>,
<code>TIKTOK_API_URL=${base}</code>, client key <code>${escapeHtml(p.clientKey)}</code> (the secret is
<code>SANDBOX_CLIENT_SECRET</code>).</li>
<li>Tests steer it through the control API under <code>${base}/__sandbox/</code> (injected failures, the call log,
the clock); <code>GET /__sandbox/users</code> lists the users as JSON.</li>
</ol>
<h2>Users</h2>
<ul class="users">
${users}
</ul>`,
    { wide: true },
  );
}
