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

type ConsoleView = 'accounts' | 'webhooks';

const VIEWS: { view: ConsoleView; href: string; label: string }[] = [
  { view: 'accounts', href: '/console', label: 'Accounts' },
  { view: 'webhooks', href: '/console/webhooks', label: 'Webhooks' },
];

/** A signed-in console page: the shared bar (views, queue dashboard, sign out), the view's body and its module. */
function consoleLayout(options: { csrf: string; view: ConsoleView; title: string; body: string; script: string }) {
  const links = VIEWS.map(({ view, href, label }) =>
    view === options.view ? `<a href="${href}" aria-current="page">${label}</a>` : `<a href="${href}">${label}</a>`,
  ).join('\n    ');
  return layout(
    options.title,
    `<header class="bar">
  <h1>TikTok connect admin</h1>
  <nav aria-label="Console">
    ${links}
    <a href="/queues" id="queues-link">Queue dashboard</a>
    <button type="button" id="logout" class="link">Sign out</button>
  </nav>
</header>
<main>
${options.body}
</main>
<script type="module" src="/console/assets/${options.script}"></script>`,
    `<meta name="csrf-token" content="${escapeHtml(options.csrf)}">`,
  );
}

export function consolePage(options: { csrf: string }): string {
  return consoleLayout({
    csrf: options.csrf,
    view: 'accounts',
    title: 'TikTok connect admin',
    script: 'console.js',
    body: `  <section id="stats" class="stats" aria-label="Accounts per status"></section>
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
      <table id="accounts" class="cards">
        <thead><tr><th>Account</th><th>User</th><th>Status</th><th>Access token expires</th><th>Connected</th></tr></thead>
        <tbody></tbody>
      </table>
      <button type="button" id="more" hidden>Load more</button>
    </section>
    <section id="detail" class="detail" aria-label="Account detail" hidden></section>
  </div>`,
  });
}

export function webhooksPage(options: { csrf: string }): string {
  return consoleLayout({
    csrf: options.csrf,
    view: 'webhooks',
    title: 'Webhooks · TikTok connect admin',
    script: 'webhooks.js',
    body: `  <h2>Webhook deliveries</h2>
  <form id="webhook-filter" class="search">
    <label for="webhook-status">Status</label>
    <select id="webhook-status" name="status">
      <option value="">Any status</option>
      <option value="PENDING">Pending</option>
      <option value="DELIVERED">Delivered</option>
      <option value="FAILED">Failed</option>
      <option value="ENDPOINT_GONE">Endpoint gone</option>
    </select>
    <button type="submit">Filter</button>
  </form>
  <p id="message" role="status" class="message"></p>
  <section aria-label="Webhook deliveries">
    <p id="total" class="muted"></p>
    <table id="deliveries" class="cards">
      <thead><tr><th>Event</th><th>Endpoint</th><th>Status</th><th>Attempts</th><th>Last answer</th><th>Last error</th><th>Next attempt</th><th>Delivered</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody></tbody>
    </table>
    <button type="button" id="more" hidden>Load more</button>
  </section>`,
  });
}
