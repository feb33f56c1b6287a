import { describe, expect, it, vi } from 'vitest';

// graphql-ws's dispose awaits the connection attempt, which a refused token rejects with the
// close event (4403).
// A plain function: vi.fn would itself attach handlers to the promise it returns.
let refused: Promise<void>;
let disposed = 0;
function dispose() {
  disposed++;
  refused = Promise.reject({ code: 4403, reason: 'Forbidden' });
  vi.spyOn(refused, 'then');
  return refused;
}
vi.mock('graphql-ws', () => ({ createClient: () => ({ dispose, subscribe: () => () => {}, on: () => () => {} }) }));

const { createApi, graphqlWsUrl } = await import('./client');

describe('createApi', () => {
  it('handles the rejection of disposing a refused socket (no uncaught CloseEvent)', async () => {
    const api = createApi({ token: 'pbk_x', onAuthFailure: () => {}, origin: 'http://127.0.0.1:8080' });
    api.dispose();
    expect(disposed).toBe(1);
    const handlers = vi.mocked(refused.then).mock.calls;
    expect(handlers.some(([, onRejected]) => typeof onRejected === 'function')).toBe(true);
    await refused.catch(() => {}); // (settle it here whatever the outcome)
  });

  it('speaks WebSocket on the same path', () => {
    expect(graphqlWsUrl('https://pb.example/')).toBe('wss://pb.example/graphql');
  });
});
