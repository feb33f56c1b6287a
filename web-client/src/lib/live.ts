// Live lists fed by subscriptions: newest first, bounded, pausable.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AnyVariables, Client, TypedDocumentNode } from '@urql/core';
import { describeError, type ErrorView } from './errors';

export interface LiveList<T> {
  items: T[];
  /** Items that arrived while paused (shown on resume). */
  pending: number;
  paused: boolean;
  setPaused(paused: boolean): void;
  clear(): void;
  error: ErrorView | null;
}

/** Prepends `incoming` (newest first) and keeps at most `max`, dropping duplicates by id. */
export function mergeNewest<T extends { id: string }>(current: T[], incoming: T[], max: number): T[] {
  if (!incoming.length) return current;
  const seen = new Set<string>();
  const out: T[] = [];
  for (const item of [...incoming].reverse().concat(current)) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    out.push(item);
    if (out.length >= max) break;
  }
  return out;
}

export function useLiveList<Data, Vars extends AnyVariables, T extends { id: string }>(
  client: Client,
  document: TypedDocumentNode<Data, Vars>,
  variables: Vars,
  pick: (data: Data) => T | null | undefined,
  options: { max?: number; seed?: T[]; onItem?: (item: T) => void } = {},
): LiveList<T> {
  const max = options.max ?? 200;
  const [items, setItems] = useState<T[]>(options.seed ?? []);
  const [paused, setPausedState] = useState(false);
  const [pending, setPending] = useState(0);
  const [error, setError] = useState<ErrorView | null>(null);
  const buffer = useRef<T[]>([]);
  const pausedRef = useRef(false);
  const onItem = useRef(options.onItem);
  onItem.current = options.onItem;
  const key = JSON.stringify(variables);

  useEffect(() => {
    const seed = options.seed;
    // Stored items arrive after live ones may have: keep both, newest first.
    if (seed) setItems((prev) => mergeNewest(seed, [...prev].reverse(), max));
  }, [options.seed]);

  useEffect(() => {
    const { unsubscribe } = client.subscription(document, variables).subscribe((result) => {
      if (result.error) {
        const view = describeError(result.error);
        // LAGGED: the server says the stream skipped entries and goes on.
        setError(view);
      }
      const item = result.data ? pick(result.data) : null;
      if (!item) return;
      onItem.current?.(item);
      if (pausedRef.current) {
        buffer.current.push(item);
        setPending(buffer.current.length);
      } else {
        setItems((prev) => mergeNewest(prev, [item], max));
      }
    });
    return unsubscribe;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, document, key, max]);

  return {
    items,
    pending,
    paused,
    error,
    setPaused(next) {
      pausedRef.current = next;
      setPausedState(next);
      if (!next && buffer.current.length) {
        const flushed = buffer.current;
        buffer.current = [];
        setPending(0);
        setItems((prev) => mergeNewest(prev, flushed, max));
      }
    },
    clear() {
      buffer.current = [];
      setPending(0);
      setItems([]);
    },
  };
}

/**
 * Reads a whole oldest-first connection in pages of `pageSize` (up to `maxPages`) and
 * returns its newest `keep` nodes, newest first. The API lists executions and logs
 * oldest first with `first`/`after` only, so "the latest" means reading to the end.
 */
export async function fetchNewest<T>(
  fetchPage: (after: string | null) => Promise<{ nodes: T[]; hasNextPage: boolean; endCursor: string | null | undefined } | null>,
  keep: number,
  maxPages = 4,
): Promise<{ items: T[]; complete: boolean }> {
  let after: string | null = null;
  let tail: T[] = [];
  for (let page = 0; page < maxPages; page++) {
    const result = await fetchPage(after);
    if (!result) break;
    tail = tail.concat(result.nodes).slice(-keep);
    if (!result.hasNextPage || !result.endCursor) return { items: tail.reverse(), complete: true };
    after = result.endCursor;
  }
  return { items: tail.reverse(), complete: false };
}
