// A live alert list: open alerts (FIRING, ACKNOWLEDGED) and the newest RESOLVED ones,
// loaded once and kept live from the `alerts` subscription.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { AlertCountsQuery, AlertsPageQuery, AlertsSubscription } from '../api/operations';
import type { AlertsPageQuery as AlertsPageData, AlertState } from '../gql/graphql';
import { useSession } from '../context';
import { fetchNewest } from './live';
import { upsertAlert, sortAlerts } from './alerts';
import type { CombinedErrorLike } from './errors';

export type AlertItem = AlertsPageData['alerts']['nodes'][number];

export interface AlertFeed {
  alerts: AlertItem[];
  loading: boolean;
  error: CombinedErrorLike | null;
  counts: { FIRING: number; ACKNOWLEDGED: number; RESOLVED: number } | null;
  /** Applies a mutation result at once (the subscription confirms it). */
  patch(alert: Partial<AlertItem> & { id: string }): void;
  reload(): void;
}

export function useAlertFeed({ integrationId, resolvedKeep = 50, withCounts = false }: {
  integrationId?: string; resolvedKeep?: number; withCounts?: boolean;
} = {}): AlertFeed {
  const { client, projectId } = useSession();
  const [alerts, setAlerts] = useState<AlertItem[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<CombinedErrorLike | null>(null);
  const [counts, setCounts] = useState<AlertFeed['counts']>(null);
  const [reloads, setReloads] = useState(0);
  const filterFor = (state: AlertState) => ({ projectId: integrationId ? null : projectId, integrationId: integrationId ?? null, state });

  const loadCounts = useCallback(async () => {
    if (!withCounts) return;
    const r = await client.query(AlertCountsQuery, { projectId }, { requestPolicy: 'network-only' }).toPromise();
    if (r.data) setCounts({ FIRING: r.data.firing.totalCount, ACKNOWLEDGED: r.data.acknowledged.totalCount, RESOLVED: r.data.resolved.totalCount });
  }, [client, projectId, withCounts]);

  useEffect(() => {
    let stop = false;
    setLoading(true);
    const page = (state: AlertState) => async (after: string | null) => {
      const r = await client.query(AlertsPageQuery, { filter: filterFor(state), first: 100, after }, { requestPolicy: 'network-only' }).toPromise();
      if (r.error) throw r.error;
      const c = r.data!.alerts;
      return { nodes: c.nodes, hasNextPage: c.pageInfo.hasNextPage, endCursor: c.pageInfo.endCursor };
    };
    Promise.all([
      fetchNewest(page('FIRING'), 500, 5),
      fetchNewest(page('ACKNOWLEDGED'), 500, 5),
      fetchNewest(page('RESOLVED'), resolvedKeep, 5),
      loadCounts(),
    ]).then(
      ([firing, acked, resolved]) => {
        if (stop) return;
        // Live events may have arrived meanwhile: they are newer, keep them.
        setAlerts((live) => live.reduce((list, a) => upsertAlert(list, a), sortAlerts([...firing.items, ...acked.items, ...resolved.items])));
        setError(null);
        setLoading(false);
      },
      (e) => {
        if (stop) return;
        setError(e as CombinedErrorLike);
        setLoading(false);
      },
    );
    return () => { stop = true; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, projectId, integrationId, resolvedKeep, reloads]);

  useEffect(() => {
    // One integration's alerts: listen to everything visible (the selected project may not be its own) and filter.
    const { unsubscribe } = client.subscription(AlertsSubscription, { projectId: integrationId ? null : projectId }).subscribe((result) => {
      const event = result.data?.alerts;
      if (!event) return;
      if (integrationId && event.alert.integration?.id !== integrationId && event.alert.subject !== integrationId) return;
      setAlerts((list) => upsertAlert(list, event.alert));
      void loadCounts();
    });
    return unsubscribe;
  }, [client, projectId, integrationId, loadCounts]);

  return {
    alerts,
    loading,
    error,
    counts,
    patch(p) {
      setAlerts((list) => {
        const prev = list.find((a) => a.id === p.id);
        return prev ? upsertAlert(list, { ...prev, ...p }) : list;
      });
      void loadCounts();
    },
    reload: () => setReloads((n) => n + 1),
  };
}
