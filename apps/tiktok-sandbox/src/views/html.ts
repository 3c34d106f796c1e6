const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Hidden inputs that carry the authorize parameters through a form (values escaped). */
export function hiddenInputs(params: URLSearchParams): string {
  return [...params]
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f1f1f2;color:#161823}
main{max-width:28rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.5rem;margin:0 0 .25rem}
/* TikTok's pink (#fe2c55) is 3.7:1 on white: text and the primary button use a darker shade (5.2:1, WCAG AA). */
.brand{font-weight:700;letter-spacing:.02em;color:#d6153f;margin:0 0 1rem}
.sub{color:#57585f;margin:0 0 1.5rem}
.account{display:flex;align-items:center;gap:.75rem;margin:0 0 1.5rem}
.account img,.user img{width:40px;height:40px;border-radius:50%}
.account .name{font-weight:600}
.muted{color:#57585f;font-size:.9rem}
fieldset{border:1px solid #e3e3e4;border-radius:8px;margin:0 0 1.5rem;padding:.75rem 1rem}
legend{font-weight:600;padding:0 .25rem}
label{display:flex;gap:.5rem;align-items:flex-start;padding:.35rem 0}
button{font:inherit;cursor:pointer;border-radius:6px;padding:.6rem 1rem;border:1px solid #d0d0d3;background:#fff;color:#161823}
button.primary{background:#d6153f;border-color:#d6153f;color:#fff;font-weight:600}
button:focus-visible{outline:3px solid #25f4ee;outline-offset:2px}
.actions{display:flex;flex-direction:row-reverse;gap:.75rem;justify-content:flex-start}
ul.users{list-style:none;padding:0;margin:0 0 1rem}
ul.users li{margin:0 0 .5rem}
li.user{display:flex;align-items:center;gap:.75rem}
li.user .name{font-weight:600}
button.user{display:flex;align-items:center;gap:.75rem;width:100%;text-align:left}
.switch{margin-top:1.5rem;border-top:1px solid #e3e3e4;padding-top:1rem}
.problems{background:#fff4f5;border:1px solid #d6153f;border-radius:8px;padding:.75rem 1.5rem}
footer{max-width:28rem;margin:0 auto 2rem;color:#57585f;font-size:.8rem;text-align:center}
main.wide{max-width:44rem}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,monospace;background:#f1f1f2;padding:0 .25em;border-radius:4px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:0 0 1.5rem}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e3e3e4;vertical-align:middle}
td img{width:32px;height:32px;border-radius:50%;vertical-align:middle}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
@media (max-width:480px){main{margin:0;border-radius:0;padding:1.25rem}.hide-narrow{display:none}}
`;

/** The page frame: language, viewport, inline style only (no external resources, no script). */
export function layout(title: string, body: string, options: { wide?: boolean } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main${options.wide ? ' class="wide"' : ''}>
<p class="brand">TikTok <span class="muted">(sandbox)</span></p>
${body}
</main>
<footer>Local TikTok sandbox: no real accounts, no data leaves this machine.</footer>
</body>
</html>
`;
}
