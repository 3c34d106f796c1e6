// Admin console, webhooks view: the delivery log (filtered by status, paged by cursor) and "Redeliver" per row.
import { $, cell, el, graphql, say, when } from './common.js';

const DELIVERY_FIELDS = `id eventId type endpoint status attempts lastStatus lastLatencyMs lastError nextAttemptAt
  deliveredAt createdAt`;
const PAGE_SIZE = 25;

const state = { filter: {}, endCursor: null };

/**
 * An endpoint as shown: a password in the URL and query values (where receivers often put a token) are masked.
 * The log itself stores the configured URL; the console does not need the secret parts to tell endpoints apart.
 */
function endpointLabel(endpoint) {
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    return endpoint;
  }
  if (url.password) url.password = '•••';
  for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, '•••');
  try {
    return decodeURI(url.href);
  } catch {
    return url.href; // a malformed %-escape in the path: still masked, only less readable
  }
}

function lastAnswer(delivery) {
  if (delivery.attempts === 0) return '—';
  const status = delivery.lastStatus === null ? 'no answer' : String(delivery.lastStatus);
  return delivery.lastLatencyMs === null ? status : `${status} · ${delivery.lastLatencyMs} ms`;
}

function dataCells(delivery) {
  return [
    cell('Event', el('b', {}, delivery.type), el('div', { class: 'muted small' }, delivery.eventId)),
    cell('Endpoint', el('span', { class: 'endpoint' }, endpointLabel(delivery.endpoint))),
    cell('Status', el('span', { class: `badge ${delivery.status}` }, delivery.status)),
    cell('Attempts', delivery.attempts),
    cell('Last answer', lastAnswer(delivery)),
    cell('Last error', delivery.lastError || '—'),
    cell('Next attempt', when(delivery.nextAttemptAt)),
    cell('Delivered', when(delivery.deliveredAt)),
  ];
}

function deliveryRow(delivery) {
  const outcome = el('span', { class: 'outcome' });
  const button = el(
    'button',
    {
      type: 'button',
      class: 'redeliver',
      'aria-label': `Redeliver ${delivery.type} to ${endpointLabel(delivery.endpoint)}`,
    },
    'Redeliver',
  );
  const actions = el('td', { class: 'row-actions' }, button, outcome);
  const row = el('tr', { 'data-id': delivery.id }, ...dataCells(delivery), actions);
  button.addEventListener('click', () => redeliver(row, button, outcome));
  return row;
}

async function redeliver(row, button, outcome) {
  const id = row.getAttribute('data-id');
  // aria-disabled, not disabled: a disabled button loses the keyboard focus, which would drop to the page's start.
  if (button.getAttribute('aria-disabled') === 'true') return;
  button.setAttribute('aria-disabled', 'true');
  outcome.textContent = '';
  try {
    const data = await graphql(`mutation Redeliver($id: ID!) { redeliverWebhook(id: $id) { ${DELIVERY_FIELDS} } }`, {
      id,
    });
    const delivery = data.redeliverWebhook;
    // Replace the data cells only: the action cell (and the focus on its button) stays where it is.
    const actions = row.lastElementChild;
    while (row.firstElementChild !== actions) row.firstElementChild.remove();
    actions.before(...dataCells(delivery));
    outcome.textContent = 'Queued';
    outcome.className = 'outcome ok';
    say(
      `Redelivery of ${delivery.type} to ${endpointLabel(delivery.endpoint)} queued (webhook-id ${delivery.eventId}).`,
    );
  } catch (error) {
    outcome.textContent = 'Failed';
    outcome.className = 'outcome failed';
    say(`Redelivery failed: ${error.message}${error.code ? ` (${error.code})` : ''}`, true);
  } finally {
    button.removeAttribute('aria-disabled');
  }
}

async function loadDeliveries(append) {
  const data = await graphql(
    `query Deliveries($filter: WebhookDeliveryFilter, $first: Int, $after: String) {
      webhookDeliveries(filter: $filter, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ${DELIVERY_FIELDS} } }
      }
    }`,
    { filter: state.filter, first: PAGE_SIZE, after: append ? state.endCursor : null },
  );
  const log = data.webhookDeliveries;
  const tbody = $('#deliveries tbody');
  const rows = log.edges.map((edge) => deliveryRow(edge.node));
  if (append) tbody.append(...rows);
  else if (rows.length === 0)
    tbody.replaceChildren(el('tr', {}, el('td', { colspan: 9, class: 'muted' }, 'No deliveries.')));
  else tbody.replaceChildren(...rows);
  state.endCursor = log.pageInfo.endCursor;
  $('#more').hidden = !log.pageInfo.hasNextPage;
  $('#total').textContent = `${log.totalCount} matching deliver${log.totalCount === 1 ? 'y' : 'ies'}`;
}

$('#webhook-filter').addEventListener('submit', (event) => {
  event.preventDefault();
  const status = $('#webhook-status').value;
  state.filter = status ? { status } : {};
  say('', false);
  loadDeliveries(false).catch((error) => say(error.message, true));
});

$('#more').addEventListener('click', () => loadDeliveries(true).catch((error) => say(error.message, true)));

loadDeliveries(false).catch((error) => say(error.message, true));
