// The demo page's script: the "Connect TikTok accounts" button opens the connect popup with the browser SDK
// (window.TikTokConnect, from the gateway's /sdk/connect.js), and the webhook list updates live.
const events = document.getElementById('events');
const notice = document.getElementById('notice');

function logEvent(event) {
  const item = document.createElement('li');
  item.dataset.event = event.type;
  if (event.code) item.dataset.code = event.code;
  if (event.sessionId) item.dataset.sessionId = event.sessionId;
  item.textContent =
    event.type === 'account'
      ? `account: ${event.result.displayName} (${event.result.outcome})`
      : event.type === 'error'
        ? `error: ${event.code}`
        : event.type;
  events.append(item);
}

function say(text, tone) {
  notice.innerHTML = '';
  const p = document.createElement('p');
  p.className = `notice notice-${tone}`;
  p.textContent = text;
  notice.append(p);
}

async function refreshAccounts() {
  const res = await fetch('/accounts');
  if (res.ok) document.getElementById('accounts').innerHTML = await res.text();
}

// Inside the click: the SDK opens the popup synchronously (Safari), then asks our server for the session.
document.getElementById('connect').addEventListener('click', () => {
  window.TikTokConnect.openTikTokConnect({
    // Runs after the popup opened (inside the click): our server creates the session with its API key.
    url: () =>
      fetch('/connect-session', { method: 'POST', headers: { 'content-type': 'application/json' } }).then((res) => {
        if (!res.ok) throw new Error(`could not create a connect session (${res.status})`);
        return res.json(); // { url, clientToken }
      }),
    onEvent: (event) => {
      logEvent(event);
      if (event.type === 'account') refreshAccounts();
    },
    fallbackToRedirect: true,
  }).then(
    ({ results }) => {
      say(`Connected ${results.length} account${results.length === 1 ? '' : 's'}.`, 'ok');
      refreshAccounts();
    },
    (error) => {
      say(
        error.code === 'window_closed'
          ? 'The window was closed before Done.'
          : `Not connected: ${error.code ?? error.message}`,
        'error',
      );
      refreshAccounts();
    },
  );
});

// The webhooks this app receives, as they arrive (server-sent events).
const webhooks = document.getElementById('webhooks');
const stream = new EventSource('/webhooks/stream');
stream.addEventListener('open', () => {
  document.body.dataset.webhooksLive = 'true';
});
stream.addEventListener('webhook', (message) => {
  const template = document.createElement('template');
  template.innerHTML = message.data;
  webhooks.prepend(template.content);
});
