// Admin console: talks to /graphql with the session cookie and the CSRF token from the page's meta tag.
// No framework and no innerHTML with data: every value goes through textContent.

const csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
const $ = (selector) => document.querySelector(selector);

const ACCOUNT_FIELDS = `id userId openId displayName username status scopes accessTokenExpiresAt
  refreshTokenExpiresAt nextRefreshAt lastRefreshedAt refreshFailureCount lastError connectedAt disconnectedAt createdAt`;

async function graphql(query, variables) {
  const response = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-admin-csrf': csrf },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) {
    window.location.assign('/console/login?next=/console');
    throw new Error('Session expired');
  }
  const body = await response.json();
  if (body.errors?.length > 0) {
    const error = new Error(body.errors[0].message);
    error.code = body.errors[0].extensions?.code;
    throw error;
  }
  return body.data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return el('time', { datetime: iso, title: iso }, date.toLocaleString());
}

function say(text, failed) {
  const message = $('#message');
  message.textContent = text;
  message.className = failed ? 'message failed' : 'message';
}

const state = { filter: {}, endCursor: null, selectedId: null };

async function loadStats() {
  const data = await graphql('{ accountStats { total byStatus { status count } } }');
  const stats = $('#stats');
  stats.replaceChildren(
    el('div', { class: 'stat' }, el('b', {}, data.accountStats.total), 'accounts'),
    ...data.accountStats.byStatus.map((s) =>
      el('div', { class: 'stat' }, el('b', {}, s.count), s.status.toLowerCase().replace('_', ' ')),
    ),
  );
}

function accountRow(account) {
  const row = el(
    'tr',
    { 'data-id': account.id, onclick: () => showAccount(account.id) },
    el('td', {}, account.displayName, account.username ? el('div', { class: 'muted' }, `@${account.username}`) : null),
    el('td', {}, account.userId),
    el('td', {}, el('span', { class: `badge ${account.status}` }, account.status)),
    el('td', {}, when(account.accessTokenExpiresAt)),
    el('td', {}, when(account.connectedAt)),
  );
  if (account.id === state.selectedId) row.classList.add('selected');
  return row;
}

async function loadAccounts(append) {
  const data = await graphql(
    `query Accounts($filter: AccountFilter, $after: String) {
      accounts(filter: $filter, first: 25, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id displayName username userId status accessTokenExpiresAt connectedAt } }
      }
    }`,
    { filter: state.filter, after: append ? state.endCursor : null },
  );
  const tbody = $('#accounts tbody');
  const rows = data.accounts.edges.map((edge) => accountRow(edge.node));
  if (append) tbody.append(...rows);
  else tbody.replaceChildren(...rows);
  state.endCursor = data.accounts.pageInfo.endCursor;
  $('#more').hidden = !data.accounts.pageInfo.hasNextPage;
  $('#total').textContent = `${data.accounts.totalCount} matching account${data.accounts.totalCount === 1 ? '' : 's'}`;
}

async function showAccount(id) {
  state.selectedId = id;
  for (const row of document.querySelectorAll('#accounts tbody tr')) {
    row.classList.toggle('selected', row.getAttribute('data-id') === id);
  }
  const data = await graphql(
    `query Account($id: ID!) { account(id: $id) { ${ACCOUNT_FIELDS}
      events(first: 20) { edges { node { id type message createdAt } } } } }`,
    { id },
  );
  renderDetail(data.account);
}

function renderDetail(account) {
  const detail = $('#detail');
  detail.hidden = false;
  if (!account) {
    detail.replaceChildren(el('p', {}, 'This account no longer exists.'));
    return;
  }
  const fields = [
    ['Status', el('span', { class: `badge ${account.status}`, id: 'detail-status' }, account.status)],
    ['User id', account.userId],
    ['Open id', account.openId],
    ['Scopes', account.scopes.join(', ') || '—'],
    ['Access token expires', when(account.accessTokenExpiresAt)],
    ['Refresh token expires', when(account.refreshTokenExpiresAt)],
    ['Next refresh', when(account.nextRefreshAt)],
    ['Last refreshed', when(account.lastRefreshedAt)],
    ['Refresh failures', account.refreshFailureCount],
    ['Last error', account.lastError || '—'],
    ['Connected', when(account.connectedAt)],
    ['Disconnected', when(account.disconnectedAt)],
  ];
  const disconnected = account.status === 'DISCONNECTED';
  const refresh = el(
    'button',
    { type: 'button', id: 'refresh', disabled: account.status !== 'ACTIVE' },
    'Force refresh',
  );
  const disconnect = el(
    'button',
    { type: 'button', id: 'disconnect', class: 'danger', disabled: disconnected },
    'Disconnect',
  );
  refresh.addEventListener('click', () => runMutation('refreshAccount', account.id, 'Refresh scheduled'));
  disconnect.addEventListener('click', () => {
    // Two clicks, so a stray one cannot disconnect someone's account.
    if (disconnect.dataset.armed !== 'yes') {
      disconnect.dataset.armed = 'yes';
      disconnect.textContent = 'Confirm disconnect';
      return;
    }
    runMutation('disconnectAccount', account.id, 'Account disconnected');
  });
  detail.replaceChildren(
    el('h2', {}, account.displayName, account.username ? ` (@${account.username})` : ''),
    el('dl', {}, ...fields.flatMap(([label, value]) => [el('dt', {}, label), el('dd', {}, value)])),
    el('div', { class: 'actions' }, refresh, disconnect),
    el('h2', {}, 'Events'),
    el(
      'ul',
      { class: 'events', id: 'events' },
      ...(account.events.edges.length === 0
        ? [el('li', { class: 'muted' }, 'No events yet')]
        : account.events.edges.map(({ node }) =>
            el(
              'li',
              { 'data-type': node.type },
              el('b', {}, node.type),
              node.message ? ` — ${node.message}` : '',
              when(node.createdAt),
            ),
          )),
    ),
  );
}

async function runMutation(name, id, done) {
  for (const button of document.querySelectorAll('#detail button')) button.disabled = true;
  try {
    await graphql(`mutation Act($id: ID!) { ${name}(id: $id) { id status } }`, { id });
    say(done, false);
  } catch (error) {
    say(`${error.message}${error.code ? ` (${error.code})` : ''}`, true);
  }
  await Promise.all([showAccount(id), loadAccounts(false), loadStats()]).catch((error) => say(error.message, true));
}

$('#search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const search = $('#search').value.trim();
  const userId = $('#user-id').value.trim();
  const status = $('#status').value;
  state.filter = {
    ...(search ? { search } : {}),
    ...(userId ? { userId } : {}),
    ...(status ? { status } : {}),
  };
  say('', false);
  loadAccounts(false).catch((error) => say(error.message, true));
});

$('#more').addEventListener('click', () => loadAccounts(true).catch((error) => say(error.message, true)));

$('#logout').addEventListener('click', async () => {
  await fetch('/console/logout', { method: 'POST', credentials: 'same-origin', headers: { 'x-admin-csrf': csrf } });
  window.location.assign('/console/login');
});

Promise.all([loadStats(), loadAccounts(false)]).catch((error) => say(error.message, true));
