// Admin console, accounts view: search, account detail, disconnect, force refresh.
import { $, cell, el, graphql, say, when } from './common.js';

const ACCOUNT_FIELDS = `id userId openId displayName username status scopes accessTokenExpiresAt
  refreshTokenExpiresAt nextRefreshAt lastRefreshedAt refreshFailureCount lastError connectedAt disconnectedAt createdAt`;

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
  // The account's name is a button: the row opens with Tab and Enter as well as with a click anywhere on it.
  const open = el(
    'button',
    {
      type: 'button',
      class: 'open-account link',
      'aria-controls': 'detail',
      'aria-label': `Show ${account.displayName}${account.username ? ` (@${account.username})` : ''}`,
    },
    account.displayName,
  );
  open.addEventListener('click', (event) => {
    event.stopPropagation();
    showAccount(account.id, { focus: true });
  });
  const row = el(
    'tr',
    { 'data-id': account.id, onclick: () => showAccount(account.id, { focus: true }) },
    cell('Account', open, account.username ? el('div', { class: 'muted' }, `@${account.username}`) : null),
    cell('User', account.userId),
    cell('Status', el('span', { class: `badge ${account.status}` }, account.status)),
    cell('Access token expires', when(account.accessTokenExpiresAt)),
    cell('Connected', when(account.connectedAt)),
  );
  if (account.id === state.selectedId) markSelected(row, true);
  return row;
}

function markSelected(row, selected) {
  row.classList.toggle('selected', selected);
  const open = row.querySelector('.open-account');
  if (selected) open?.setAttribute('aria-current', 'true');
  else open?.removeAttribute('aria-current');
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

/** Opens an account in the detail panel; with `focus`, the keyboard focus moves to the panel's heading. */
async function showAccount(id, { focus = false } = {}) {
  state.selectedId = id;
  for (const row of document.querySelectorAll('#accounts tbody tr')) {
    markSelected(row, row.getAttribute('data-id') === id);
  }
  const data = await graphql(
    `query Account($id: ID!) { account(id: $id) { ${ACCOUNT_FIELDS}
      events(first: 20) { edges { node { id type message createdAt } } } } }`,
    { id },
  );
  renderDetail(data.account);
  if (focus) $('#detail-heading')?.focus();
}

function renderDetail(account) {
  const detail = $('#detail');
  detail.hidden = false;
  if (!account) {
    detail.replaceChildren(el('p', { id: 'detail-heading', tabindex: '-1' }, 'This account no longer exists.'));
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
    // Focusable from script only (tabindex -1): where the focus goes when an account is opened or acted on.
    el(
      'h2',
      { id: 'detail-heading', tabindex: '-1' },
      account.displayName,
      account.username ? ` (@${account.username})` : '',
    ),
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
  // The buttons were disabled (which drops the focus) and are rebuilt: the focus goes back to the panel's heading.
  await Promise.all([showAccount(id, { focus: true }), loadAccounts(false), loadStats()]).catch((error) =>
    say(error.message, true),
  );
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

Promise.all([loadStats(), loadAccounts(false)]).catch((error) => say(error.message, true));
