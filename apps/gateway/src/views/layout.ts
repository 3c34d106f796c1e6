import { html, type SafeHtml } from './html.js';
import { STYLESHEET_PATH } from './styles.js';

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** Reload the page after this many seconds (used while waiting for the worker; needs no JavaScript). */
  refreshSeconds?: number;
}

/** The page shell: language, landmarks, skip link, the hashed stylesheet; no scripts, no inline styles. */
export function layout({ title, body, refreshSeconds }: LayoutOptions): string {
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
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header" role="banner"><span class="logo" aria-hidden="true">♪</span><span>TikTok accounts</span></header>
<main id="main" tabindex="-1">
${body}
</main>
<footer class="site-footer" role="contentinfo"><p>Your TikTok passwords are never shared with this service or the app.</p></footer>
</body>
</html>
`.value;
}
