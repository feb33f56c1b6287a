// GraphiQL, bundled (no CDN), for patchbay's /graphql. Login as in the server's built-in
// page: `#token=…` in the URL moves to localStorage `patchbay.token` and leaves the address
// bar; the token goes out as `Authorization: Bearer` on HTTP and in connection_init on
// the WebSocket (graphql-transport-ws).
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import 'graphiql/style.css';
import './graphiql.css';
import { adoptTokenFromLocation, authHeaders, clearToken, tokenHint } from './lib/token';
import { graphqlHttpUrl, graphqlWsUrl } from './lib/client';

const token = adoptTokenFromLocation(location, history, localStorage);
const who = document.getElementById('who')!;
const logout = document.getElementById('logout') as HTMLButtonElement;
if (token) {
  who.textContent = `logged in with token ${tokenHint(token)}`;
  logout.hidden = false;
  logout.addEventListener('click', () => {
    clearToken(localStorage);
    location.reload();
  });
} else {
  who.textContent = 'not logged in: open the login URL printed at start-up, or set an Authorization header below';
}

const auth = authHeaders(token);
const fetcher = createGraphiQLFetcher({
  url: graphqlHttpUrl(location.origin),
  headers: auth,
  wsClient: createClient({ url: graphqlWsUrl(location.origin), connectionParams: auth, lazy: true }),
});

const defaultQuery = `{
  viewer { name role }
  projects(first: 10) { totalCount edges { node { id name slug } } }
}
`;

createRoot(document.getElementById('graphiql')!).render(
  createElement(GraphiQL, { fetcher, defaultQuery, defaultEditorToolsVisibility: false }),
);
