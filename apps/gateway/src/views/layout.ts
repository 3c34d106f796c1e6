import { html, type SafeHtml } from './html.js';
import { POPUP_SCRIPT_PATH } from './popup-script.js';
import { STYLESHEET_PATH } from './styles.js';

/** What a popup-mode page tells the window that opened it (see views/popup-script.ts). */
export interface PopupMessage {
  /** The upstream app's origin (of the session's `returnTo`): the only one the message is posted to. */
  targetOrigin: string;
  message: { type: string; sessionId: string; results: unknown[] };
  /** Close the popup after posting (after "Done"). */
  close?: boolean;
}

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** Reload the page after this many seconds (used while waiting for the worker; needs no JavaScript). */
  refreshSeconds?: number;
  /** Popup mode: the message for the opener, and the script that posts it. */
  popup?: PopupMessage | undefined;
}

/**
 * The page shell: language, landmarks, skip link, the hashed stylesheet; no inline script or style. In popup mode
 * only, the gateway's popup script and its message as data.
 */
export function layout({ title, body, refreshSeconds, popup }: LayoutOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
${refreshSeconds !== undefined ? html`<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}
<title>${title} · TikTok accounts</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
${popup ? html`<script src="${POPUP_SCRIPT_PATH}" defer></script>` : ''}
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header" role="banner"><span class="logo" aria-hidden="true">♪</span><span>TikTok accounts</span></header>
<main id="main" tabindex="-1">
${body}
</main>
${
  popup
    ? html`<div id="ttc-popup" hidden data-origin="${popup.targetOrigin}" data-message="${JSON.stringify(popup.message)}"${popup.close ? html` data-close="true"` : ''}></div>`
    : ''
}
<footer class="site-footer" role="contentinfo"><p>Your TikTok passwords are never shared with this service or the app.</p></footer>
</body>
</html>
`.value;
}
