import type { SandboxUser } from '../types.js';
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
  clientKey: string;
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
<p class="sub">to continue to <strong>${escapeHtml(p.clientKey)}</strong>. Choose a sandbox account.</p>
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
  clientKey: string;
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
    `<h1>${escapeHtml(p.clientKey)} would like to access your TikTok account</h1>
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
