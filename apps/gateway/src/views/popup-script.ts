import { createHash } from 'node:crypto';

/**
 * The one script of the hosted pages, on popup-mode pages only: it posts the page's message (in the page as data,
 * `#ttc-popup`'s attributes, never as inline script) to the window that opened the popup, to the upstream app's
 * origin only, and closes the popup after "Done". Served from the gateway under a content-hashed name, so the CSP
 * needs only `script-src 'self'` and no inline script or hash.
 */
export const POPUP_SCRIPT = `(function () {
  var el = document.getElementById('ttc-popup');
  if (!el) return;
  var origin = el.getAttribute('data-origin');
  var message;
  try { message = JSON.parse(el.getAttribute('data-message') || 'null'); } catch (e) { return; }
  if (message && origin && window.opener) {
    try { window.opener.postMessage(message, origin); } catch (e) { /* the opener navigated elsewhere */ }
  }
  if (el.getAttribute('data-close') === 'true') window.close();
})();
`;

export const POPUP_SCRIPT_PATH = `/assets/popup.${createHash('sha256').update(POPUP_SCRIPT).digest('hex').slice(0, 12)}.js`;
