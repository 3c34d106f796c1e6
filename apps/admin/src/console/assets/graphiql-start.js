// Starts GraphiQL (React, ReactDOM and GraphiQL are the UMD globals loaded before this file, all from this server).
// Signed in to the console, the page carries the session's CSRF token and queries go with the session cookie;
// otherwise the header editor takes {"authorization": "Bearer <admin token>"}. Headers are never saved.
/* global React, ReactDOM, GraphiQL */
const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content');

const DEFAULT_QUERY = `# Admin GraphQL API; its schema is under Docs (left).
# ${csrf ? 'Queries use your console session.' : 'Add a header below: {"authorization": "Bearer <one of ADMIN_API_TOKENS>"}, or sign in at /console first.'}
query Overview {
  accountStats {
    total
    byStatus { status count }
  }
}
`;

const fetcher = GraphiQL.createFetcher({
  url: `${window.location.origin}/graphql`,
  headers: csrf ? { 'x-admin-csrf': csrf } : {},
});

// CodeMirror's input textareas have no name and its scroll areas cannot take the focus (axe: label, critical;
// scrollable-region-focusable, serious): each editor is named after its pane, and its scroll area joins the Tab order
// so that a keyboard user can scroll a long result.
const EDITOR_NAMES = [
  ['.graphiql-query-editor', 'Query'],
  ['.graphiql-editor-tool .graphiql-editor:nth-child(1)', 'Variables'],
  ['.graphiql-editor-tool .graphiql-editor:nth-child(2)', 'Headers'],
  ['.result-window', 'Result'],
];
function nameEditors() {
  for (const [pane, name] of EDITOR_NAMES) {
    for (const input of document.querySelectorAll(`${pane} .CodeMirror textarea:not([aria-label])`)) {
      input.setAttribute('aria-label', name);
    }
  }
  for (const scroller of document.querySelectorAll('.CodeMirror-scroll:not([tabindex="0"])')) {
    scroller.setAttribute('tabindex', '0');
  }
}
new MutationObserver(nameEditors).observe(document.getElementById('graphiql'), { childList: true, subtree: true });

ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultQuery: DEFAULT_QUERY, shouldPersistHeaders: false }),
);
