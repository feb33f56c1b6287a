// The GraphQL client: urql over HTTP POST /graphql (Authorization: Bearer) and
// graphql-ws (graphql-transport-ws) on the same path for subscriptions.
import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { authHeaders } from './token';
import { isAuthClose, isAuthFailure } from './errors';

export type LiveState = 'connecting' | 'connected' | 'closed';

export interface Api {
  client: Client;
  ws: WsClient;
  dispose(): void;
}

export interface ApiOptions {
  token: string;
  /** Called once when the server refuses the token (UNAUTHENTICATED, HTTP 401, close 4403). */
  onAuthFailure: (source: 'http' | 'ws') => void;
  onLiveState?: (state: LiveState) => void;
  origin?: string;
}

export function graphqlHttpUrl(origin: string): string {
  return origin.replace(/\/$/, '') + '/graphql';
}

export function graphqlWsUrl(origin: string): string {
  return graphqlHttpUrl(origin).replace(/^http/, 'ws');
}

export function createApi({ token, onAuthFailure, onLiveState, origin = location.origin }: ApiOptions): Api {
  let refused = false;
  const refuse = (source: 'http' | 'ws') => {
    if (refused) return;
    refused = true;
    onAuthFailure(source);
  };
  const ws = createWsClient({
    url: graphqlWsUrl(origin),
    connectionParams: authHeaders(token),
    lazy: true,
    lazyCloseTimeout: 3000,
    keepAlive: 15_000,
    retryAttempts: 1_000_000,
    shouldRetry: (event) => !isAuthClose(event),
    on: {
      connecting: () => onLiveState?.('connecting'),
      connected: () => onLiveState?.('connected'),
      closed: (event) => {
        onLiveState?.('closed');
        if (isAuthClose(event)) refuse('ws');
      },
    },
  });
  const client = new Client({
    url: graphqlHttpUrl(origin),
    requestPolicy: 'cache-and-network',
    fetchOptions: () => ({ headers: authHeaders(token) }),
    exchanges: [
      mapExchange({
        onError(error) {
          if (isAuthFailure(error)) refuse('http');
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return {
    client,
    ws,
    dispose() {
      // graphql-ws's dispose awaits the connection attempt; when the server refused it (a
      // revoked token: close 4403) that rejects with the close event. Nothing is left to close
      // then, and an unhandled rejection would be a console error.
      Promise.resolve(ws.dispose()).catch(() => {});
    },
  };
}

/** Checks a token with a plain request (used by the login form before storing it). */
export async function checkToken(token: string, origin = location.origin): Promise<'ok' | 'refused' | 'unreachable'> {
  try {
    const response = await fetch(graphqlHttpUrl(origin), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authHeaders(token) },
      body: JSON.stringify({ query: '{ viewer { name } }' }),
    });
    const body = (await response.json().catch(() => null)) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } | null;
    if (response.status === 401 || body?.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) return 'refused';
    return body?.data ? 'ok' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}
