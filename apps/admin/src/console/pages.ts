const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Only same-app paths may be a post-login destination: an open redirect would make the login form a phishing aid. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !/^\/(console|queues)(\/[A-Za-z0-9/_.-]*)?$/.test(next)) return '/console';
  return next;
}

function layout(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/console/assets/console.css">
${head}
</head>
<body>
${body}
</body>
</html>
`;
}

export function loginPage(options: { error?: string; next: string }): string {
  const error = options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : '';
  return layout(
    'Sign in · TikTok connect admin',
    `<main class="login">
  <h1>TikTok connect admin</h1>
  <form method="post" action="/console/login">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <input type="hidden" name="next" value="${escapeHtml(options.next)}">
    ${error}
    <button type="submit">Sign in</button>
  </form>
  <p class="hint">Paste one of the tokens in <code>ADMIN_API_TOKENS</code>. It is exchanged for a session cookie and not stored in the browser.</p>
</main>`,
  );
}

export function consolePage(options: { csrf: string }): string {
  return layout(
    'TikTok connect admin',
    `<header class="bar">
  <h1>TikTok connect admin</h1>
  <nav>
    <a href="/queues" id="queues-link">Queue dashboard</a>
    <button type="button" id="logout" class="link">Sign out</button>
  </nav>
</header>
<main>
  <section id="stats" class="stats" aria-label="Accounts per status"></section>
  <form id="search-form" class="search" role="search">
    <input id="search" name="search" type="search" placeholder="Display name, username or open id" aria-label="Search accounts">
    <input id="user-id" name="userId" type="text" placeholder="User id" aria-label="User id">
    <select id="status" name="status" aria-label="Status">
      <option value="">Any status</option>
      <option value="ACTIVE">Active</option>
      <option value="REAUTH_REQUIRED">Re-auth required</option>
      <option value="DISCONNECTED">Disconnected</option>
    </select>
    <button type="submit">Search</button>
  </form>
  <p id="message" role="status" class="message"></p>
  <div class="layout">
    <section aria-label="Accounts">
      <p id="total" class="muted"></p>
      <table id="accounts">
        <thead><tr><th>Account</th><th>User</th><th>Status</th><th>Access token expires</th><th>Connected</th></tr></thead>
        <tbody></tbody>
      </table>
      <button type="button" id="more" hidden>Load more</button>
    </section>
    <section id="detail" class="detail" aria-label="Account detail" hidden></section>
  </div>
</main>
<script src="/console/assets/console.js" defer></script>`,
    `<meta name="csrf-token" content="${escapeHtml(options.csrf)}">`,
  );
}
