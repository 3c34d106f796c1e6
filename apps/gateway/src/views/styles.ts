import { createHash } from 'node:crypto';

/**
 * The one stylesheet of the hosted pages. It is served from the gateway under a content-hashed name, so the CSP
 * can stay at `style-src 'self'` (no inline styles at all) and browsers may cache it forever.
 */
export const STYLESHEET = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --surface: #ffffff; --text: #16181d; --muted: #5b6270; --border: #dde1e7;
  --primary: #111318; --primary-text: #ffffff; --accent: #fe2c55; --focus: #2563eb;
  --ok-bg: #e7f6ec; --ok-text: #135c2e; --warn-bg: #fff4dc; --warn-text: #7a4b00;
  --err-bg: #fde8ea; --err-text: #8f1d2c; --info-bg: #e8f0fe; --info-text: #1d3f8f;
  --radius: 12px; --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .08);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1115; --surface: #171a21; --text: #eceef2; --muted: #a1a8b5; --border: #2a2f3a;
    --primary: #f2f3f5; --primary-text: #111318; --focus: #7aa2ff;
    --ok-bg: #12301f; --ok-text: #9be3b4; --warn-bg: #33260b; --warn-text: #f5cf83;
    --err-bg: #3a141b; --err-text: #ffb3bf; --info-bg: #142444; --info-text: #a9c3ff;
    --shadow: none;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { font-size: 100%; }
body {
  margin: 0; min-height: 100vh; background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  display: flex; flex-direction: column; align-items: center;
}
a { color: inherit; }
.skip-link { position: absolute; left: -9999px; top: 0; }
.skip-link:focus { left: 1rem; top: 1rem; background: var(--surface); padding: .5rem 1rem; border-radius: 8px; z-index: 10; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.site-header, main, .site-footer { width: 100%; max-width: 40rem; padding: 0 1.25rem; }
.site-header { display: flex; align-items: center; gap: .6rem; padding-top: 1.75rem; font-weight: 600; color: var(--muted); }
.logo { width: 1.75rem; height: 1.75rem; border-radius: 8px; background: var(--primary); color: var(--primary-text);
  display: inline-flex; align-items: center; justify-content: center; font-size: .95rem; }
main { flex: 1; padding-top: 1rem; padding-bottom: 2rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .5rem 0 .35rem; }
h2 { font-size: 1.05rem; margin: 1.75rem 0 .75rem; }
.lead { color: var(--muted); margin: 0 0 1.25rem; }
.card { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); padding: 1.25rem; }
.banner { border-radius: var(--radius); padding: .9rem 1rem; margin: 0 0 1.25rem; border: 1px solid transparent; }
.banner p { margin: .25rem 0 0; }
.banner strong { display: block; }
.banner-success { background: var(--ok-bg); color: var(--ok-text); }
.banner-info { background: var(--info-bg); color: var(--info-text); }
.banner-warning { background: var(--warn-bg); color: var(--warn-text); }
.banner-error { background: var(--err-bg); color: var(--err-text); }
.reconnect { margin: 0 0 1.25rem; }
.reconnect h2 { margin-top: 0; }
.accounts { list-style: none; margin: 0; padding: 0; display: grid; gap: .75rem; }
.account { display: flex; align-items: center; gap: .9rem; background: var(--surface); border: 1px solid var(--border);
  border-radius: var(--radius); padding: .85rem 1rem; box-shadow: var(--shadow); }
.avatar { width: 48px; height: 48px; border-radius: 50%; object-fit: cover; flex: none; background: var(--border); }
.avatar-fallback { display: inline-flex; align-items: center; justify-content: center; font-weight: 700; color: var(--muted); }
.account-main { flex: 1; min-width: 0; }
.account-name { font-weight: 600; overflow-wrap: anywhere; }
.account-meta { color: var(--muted); font-size: .875rem; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; border-radius: 999px; padding: .1rem .55rem; margin-left: .35rem; vertical-align: middle; }
.badge-active { background: var(--ok-bg); color: var(--ok-text); }
.badge-reauth { background: var(--warn-bg); color: var(--warn-text); }
.badge-disconnected { background: var(--border); color: var(--muted); }
.empty { color: var(--muted); text-align: center; padding: 1.5rem 1rem; border: 1px dashed var(--border); border-radius: var(--radius); }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin-top: 1.5rem; }
form.inline { margin: 0; }
.button { appearance: none; display: inline-flex; align-items: center; justify-content: center; gap: .4rem;
  font: inherit; font-weight: 600; border-radius: 10px; padding: .65rem 1.1rem; cursor: pointer; text-decoration: none;
  border: 1px solid var(--border); background: var(--surface); color: var(--text); min-height: 44px; }
.button:hover { border-color: var(--muted); }
.button-primary { background: var(--primary); color: var(--primary-text); border-color: var(--primary); }
.button-primary:hover { opacity: .9; border-color: var(--primary); }
.button-danger { color: var(--err-text); }
.button-small { padding: .4rem .8rem; min-height: 36px; font-size: .9rem; }
.hint { color: var(--muted); font-size: .9rem; margin: .75rem 0 0; }
.group-note { color: var(--muted); font-size: .9rem; margin: -.4rem 0 .75rem; }
.site-footer { color: var(--muted); font-size: .8rem; padding-bottom: 1.5rem; }
.code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .8rem; color: var(--muted); }
@media (max-width: 30rem) {
  .site-header, main, .site-footer { padding-left: 1rem; padding-right: 1rem; }
  .account { flex-wrap: wrap; }
  /* Name and details take the row beside the avatar; the buttons share the row below. */
  .account-main { flex-basis: calc(100% - 48px - .9rem); }
  .account .inline { flex: 1 1 0; }
  .account .inline .button { width: 100%; }
}
@media (prefers-reduced-motion: no-preference) { .button { transition: opacity .15s, border-color .15s; } }
`.trim();

/** Short content hash: a new stylesheet gets a new URL, so the old one can be cached as immutable. */
export const STYLESHEET_PATH = `/assets/gateway.${createHash('sha256').update(STYLESHEET).digest('hex').slice(0, 12)}.css`;
