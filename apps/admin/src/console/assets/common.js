// Shared by every console view (ES module): talks to /graphql with the session cookie and the CSRF token from the
// page's meta tag. No framework and no innerHTML with data: every value goes through textContent.

export const csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
export const $ = (selector) => document.querySelector(selector);

export async function graphql(query, variables) {
  const response = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-admin-csrf': csrf },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) {
    window.location.assign(`/console/login?next=${encodeURIComponent(window.location.pathname)}`);
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

export function el(tag, attrs, ...children) {
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

/**
 * A table cell that carries its column's name: on narrow screens the table becomes one card per row, and the cell a
 * two-column grid of that label (CSS ::before) and this one wrapper around its content.
 */
export function cell(label, ...content) {
  return el('td', { 'data-label': label }, el('div', {}, ...content));
}

export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return el('time', { datetime: iso, title: iso }, date.toLocaleString());
}

export function say(text, failed) {
  const message = $('#message');
  message.textContent = text;
  message.className = failed ? 'message failed' : 'message';
}

$('#logout').addEventListener('click', async () => {
  await fetch('/console/logout', { method: 'POST', credentials: 'same-origin', headers: { 'x-admin-csrf': csrf } });
  window.location.assign('/console/login');
});
