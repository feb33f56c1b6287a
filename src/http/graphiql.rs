//! GraphiQL for browsers. The login URL printed at first start carries the token in
//! the fragment (`/graphql#token=…`), which browsers never send to a server: the page
//! moves it to localStorage, clears it from the address bar, and sends it as
//! `Authorization: Bearer` on HTTP and in `connection_init` on the WebSocket.

use axum::response::Html;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>patchbay · GraphiQL</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css">
  <style>
    body { margin: 0; height: 100vh; display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
    #bar { padding: 4px 12px; font-size: 13px; background: #1f2937; color: #e5e7eb; display: flex; gap: 12px; align-items: center; }
    #bar button { font-size: 12px; }
    #graphiql { flex: 1; }
  </style>
</head>
<body>
  <div id="bar"><strong>patchbay</strong><span id="who"></span><button id="logout" hidden>Log out</button></div>
  <div id="graphiql">Loading GraphiQL…</div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphql-ws@5/umd/graphql-ws.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
  <script>
    const KEY = 'patchbay.token';
    const match = location.hash.match(/(?:^#|&)token=([^&]+)/);
    if (match) {
      localStorage.setItem(KEY, decodeURIComponent(match[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
    const token = localStorage.getItem(KEY);
    const who = document.getElementById('who');
    const logout = document.getElementById('logout');
    if (token) {
      who.textContent = 'logged in with token …' + token.slice(-6);
      logout.hidden = false;
      logout.onclick = () => { localStorage.removeItem(KEY); location.reload(); };
    } else {
      who.textContent = 'not logged in: open the login URL printed at start-up, or set an Authorization header below';
    }
    const url = location.origin + location.pathname;
    const auth = token ? { Authorization: 'Bearer ' + token } : {};
    const fetcher = GraphiQL.createFetcher({
      url,
      headers: auth,
      wsClient: graphqlWs.createClient({ url: url.replace(/^http/, 'ws'), connectionParams: auth, lazy: true }),
    });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultQuery: '{\n  viewer { name role }\n  projects(first: 10) { totalCount edges { node { id name slug } } }\n}\n',
      }),
    );
  </script>
</body>
</html>
"#;

/// The GraphiQL page.
pub fn page() -> Html<&'static str> {
    Html(PAGE)
}
