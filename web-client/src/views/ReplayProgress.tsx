// Progress of a webhook replay: `replayWebhook` answers how many deliveries it created; they
// are the deliveries after the newest one before the replay whose event lies in the range.
// Their states are read back (each second, and at every delivery attempt) until none is
// pending.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Client } from '@urql/core';
import { DeliveriesSubscription, WebhookDeliveriesPageQuery } from '../api/operations';
import type { WebhookDeliveriesPageQuery as PageData } from '../gql/graphql';
import { useSession } from '../context';
import { ErrorBox, ProgressBar } from '../components/ui';
import { replayProgress, replayedDeliveries } from '../lib/progress';

type Delivery = NonNullable<PageData['webhook']>['deliveries']['nodes'][number];

export interface ReplayMark {
  /** The cursor after the last delivery that existed before the replay (null: none). */
  cursor: string | null;
  /** Its id (ids sort by creation). */
  lastId: string | null;
}

/** Reads deliveries from `after` to the end (at most 20 pages of 500). */
export async function readDeliveriesFrom(client: Client, webhookId: string, after: string | null): Promise<{ nodes: Delivery[]; cursor: string | null }> {
  const nodes: Delivery[] = [];
  let cursor = after;
  for (let i = 0; i < 20; i++) {
    const r = await client.query(WebhookDeliveriesPageQuery, { id: webhookId, first: 500, after: cursor }, { requestPolicy: 'network-only' }).toPromise();
    if (r.error) throw r.error;
    const conn = r.data?.webhook?.deliveries;
    if (!conn) break;
    nodes.push(...conn.nodes);
    if (conn.pageInfo.endCursor) cursor = conn.pageInfo.endCursor;
    if (!conn.pageInfo.hasNextPage) break;
  }
  return { nodes, cursor };
}

/** Where the deliveries stand just before a replay. */
export async function replayMark(client: Client, webhookId: string): Promise<ReplayMark> {
  const { nodes, cursor } = await readDeliveriesFrom(client, webhookId, null);
  return { cursor: nodes.length ? cursor : null, lastId: nodes.length ? nodes[nodes.length - 1].id : null };
}

export function ReplayProgress({ webhookId, count, mark, since, until }: { webhookId: string; count: number; mark: ReplayMark; since: string; until: string }) {
  const { client } = useSession();
  const [deliveries, setDeliveries] = useState<Delivery[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const progress = replayProgress(count, deliveries);
  const alive = useRef(true);
  useEffect(() => () => { alive.current = false; }, []);
  useEffect(() => {
    if (count === 0) return;
    const { unsubscribe } = client.subscription(DeliveriesSubscription, { webhookId }).subscribe(() => setTick((n) => n + 1));
    return unsubscribe;
  }, [client, webhookId, count]);
  useEffect(() => {
    if (count === 0 || (progress.done && deliveries.length)) return;
    // A read in flight finishes even when an attempt arrives meanwhile (no starvation).
    const t = setTimeout(async () => {
      try {
        const { nodes } = await readDeliveriesFrom(client, webhookId, mark.cursor);
        if (alive.current) setDeliveries(replayedDeliveries(nodes, mark.lastId, since, until, count));
      } catch (e) {
        if (alive.current) setError(e);
      }
      if (alive.current) setTick((n) => n + 1);
    }, deliveries.length ? 1000 : 0);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, webhookId, count, tick]);
  return (
    <div class="panel spaced" aria-live="polite" data-testid="replay-progress">
      <ProgressBar id="replay-progress" value={count ? progress.value : 1} max={count ? progress.max : 1} label={progress.label} />
      <ErrorBox error={error as never} />
    </div>
  );
}
