import { html } from './html.js';
import { layout } from './layout.js';

export interface ErrorPageOptions {
  title: string;
  message: string;
  code: string;
  /** Where "Back to the app" points, when the session is known. */
  returnTo?: string | undefined;
  /** Offer "Back to your accounts" (for errors raised inside a working connect session). */
  backToConnect?: boolean;
  /** Offer "Try again" to this same-site path (a page that failed because a dependency was down). */
  retry?: string | undefined;
}

/** A friendly page for any error on a browser route; the stable code is shown small, for support requests. */
export function renderErrorPage(options: ErrorPageOptions): string {
  const body = html`<div class="card" role="alert" aria-labelledby="error-title">
<h1 id="error-title">${options.title}</h1>
<p>${options.message}</p>
<p class="code">Error code: ${options.code}</p>
${
  options.backToConnect || options.returnTo || options.retry
    ? html`<div class="actions">
${options.retry && /^\/(?![/\\])/.test(options.retry) ? html`<a class="button button-primary" href="${options.retry}">Try again</a>` : ''}
${options.backToConnect ? html`<a class="button button-primary" href="/connect">Back to your accounts</a>` : ''}
${options.returnTo ? html`<a class="button" href="${options.returnTo}">Back to the app</a>` : ''}
</div>`
    : ''
}
</div>`;
  return layout({ title: options.title, body });
}
