// Overview: counts from real queries, health grid (live from `healthChanged`), recent alerts
// (live from `alerts`), live log tail, live executions; counts follow `events`.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { HealthChangedSubscription, HealthGridQuery, LogsPageQuery, OverviewQuery } from '../api/operations';
import type { HealthGridQuery as HealthGridData } from '../gql/graphql';
import { AlertList, HealthGrid } from '../components/health';
import { applyHealthChange, countByHealth, healthLabel, healthRank, healthTone, HEALTH_STATUSES } from '../lib/health';
import { addPatch, applyOverlay, integrationPatchFromEvent, useDebounced, useProjectEvents, type Overlay } from '../lib/liveEvents';
import { useAlertFeed, type AlertFeed } from '../lib/useAlerts';
import { Loading } from '../components/ui';
import { fetchNewest } from '../lib/live';
import { useSession } from '../context';
import { Card, ErrorBox } from '../components/ui';
import { ExecutionsFeed, LogTail, type LogLine } from '../components/feeds';
import { formatNumber } from '../lib/format';
import { href } from '../lib/router';

export function Overview() {
  const { client, projectId, projects } = useSession();
  const [result, refetchCounts] = useQuery({ query: OverviewQuery, variables: { projectId } });
  const alertFeed = useAlertFeed({ resolvedKeep: 10, withCounts: true });
  const grid = useHealthGrid();
  // Integrations and webhooks changed elsewhere: the counts follow.
  const refreshCounts = useDebounced(() => refetchCounts({ requestPolicy: 'network-only' }), 500);
  useProjectEvents(['integration.*', 'webhook.*'], (e) => {
    if (e.type !== 'integration.health_changed') refreshCounts();
    grid.onEvent(e);
  });
  const d = result.data;
  // Stored entries seed the tail when they can be read to the end in two pages (the API
  // lists logs oldest first); otherwise the tail starts with what streams in.
  const [seed, setSeed] = useState<LogLine[] | undefined>(undefined);
  useEffect(() => {
    let stop = false;
    fetchNewest<LogLine>(async (after) => {
      const r = await client.query(LogsPageQuery, { filter: { projectId }, first: 500, after }, { requestPolicy: 'network-only' }).toPromise();
      const c = r.data?.logs;
      return c ? { nodes: c.nodes, hasNextPage: c.pageInfo.hasNextPage, endCursor: c.pageInfo.endCursor } : null;
    }, 100, 2).then((r) => { if (!stop) setSeed(r.complete ? r.items : []); }, () => { if (!stop) setSeed([]); });
    return () => { stop = true; };
  }, [client, projectId]);
  const project = projects.find((p) => p.id === projectId);
  const webhooks = d?.webhooks.nodes ?? [];
  const paused = webhooks.filter((w) => w.status === 'PAUSED').length;
  const disabled = webhooks.filter((w) => w.status === 'DISABLED').length;
  const failing = webhooks.filter((w) => w.failureCount > 0).length;
  return (
    <>
      <div class="page-head">
        <h1>Overview{project ? `: ${project.name}` : ''}</h1>
        <p class="muted">{project ? 'One project.' : 'All projects this token can see.'}</p>
      </div>
      {result.error ? <ErrorBox error={result.error} /> : null}
      <section class="cards" aria-label="Counts">
        <Card label="Projects" value={d ? formatNumber(d.projects.totalCount) : '…'} />
        <Card
          label="Integrations"
          value={d ? <a href={href({ name: 'integrations' })}>{formatNumber(d.all.totalCount)}</a> : '…'}
        />
        <Card label="Enabled" value={d ? formatNumber(d.enabled.totalCount) : '…'} hint={d ? `${formatNumber(d.all.totalCount - d.enabled.totalCount)} disabled` : undefined} />
        <Card label="Active status" value={d ? formatNumber(d.active.totalCount) : '…'} hint={d ? `${formatNumber(d.activeEnabled.totalCount)} active and enabled` : undefined} />
        <Card
          label="Webhooks"
          value={d ? <a href={href({ name: 'webhooks' })}>{formatNumber(d.webhooks.totalCount)}</a> : '…'}
          hint={d ? `${paused} paused · ${disabled} disabled · ${failing} failing` : undefined}
          tone={disabled || failing ? 'warn' : undefined}
        />
        <Card
          label="Alerts firing"
          value={alertFeed.counts ? <a href={href({ name: 'alerts', tab: 'firing' })} data-testid="alerts-firing">{formatNumber(alertFeed.counts.FIRING)}</a> : '…'}
          hint={alertFeed.counts ? `${formatNumber(alertFeed.counts.ACKNOWLEDGED)} acknowledged` : undefined}
          tone={alertFeed.counts?.FIRING ? 'bad' : undefined}
        />
        <Card
          label="Healthy"
          value={grid.items ? `${formatNumber(grid.counts.HEALTHY)} / ${formatNumber(grid.items.length)}` : '…'}
          hint={grid.items ? `${grid.counts.DEGRADED} degraded · ${grid.counts.UNHEALTHY} unhealthy · ${grid.counts.UNKNOWN} unknown` : undefined}
          tone={grid.counts.UNHEALTHY ? 'bad' : grid.counts.DEGRADED ? 'warn' : undefined}
        />
      </section>
      <div class="grid-2">
        <section class="panel" aria-labelledby="health-grid-title">
          <div class="panel-head">
            <h2 id="health-grid-title">Health</h2>
            <div class="health-summary" aria-label="Integrations by health">
              {HEALTH_STATUSES.map((st) => (
                <span key={st} class={`badge tone-${healthTone(st)}`}>{healthLabel(st)}: {grid.counts[st]}</span>
              ))}
            </div>
          </div>
          <ErrorBox error={grid.error} />
          {grid.items ? <HealthGrid items={grid.items} showProject={!projectId} /> : <Loading />}
          {grid.truncated ? <p class="muted small">Showing the first 200 integrations.</p> : null}
        </section>
        <RecentAlerts feed={alertFeed} />
      </div>
      <div class="grid-2">
        <ExecutionsFeed client={client} projectId={projectId} />
        <LogTail key={projectId ?? 'all'} client={client} projectId={projectId} seed={seed} />
      </div>
    </>
  );
}

function RecentAlerts({ feed }: { feed: AlertFeed }) {
  // FIRING and ACKNOWLEDGED first (the feed is sorted so), then the latest resolved.
  const shown = feed.alerts.slice(0, 12);
  return (
    <section class="panel" aria-labelledby="recent-alerts-title">
      <div class="panel-head">
        <h2 id="recent-alerts-title">Recent alerts</h2>
        <a href={href({ name: 'alerts', tab: 'firing' })}>All alerts</a>
      </div>
      <ErrorBox error={feed.error} />
      {feed.loading ? <Loading /> : <AlertList alerts={shown} feed={feed} empty="No alerts." compact />}
    </section>
  );
}

type GridNode = HealthGridData['integrations']['nodes'][number];
const GRID_MAX = 200;

/** Every integration's health, worst first; patched live by `healthChanged` and `events`. */
function useHealthGrid() {
  const { client, projectId } = useSession();
  const [result, refetch] = useQuery({ query: HealthGridQuery, variables: { projectId, first: GRID_MAX } });
  const [nodes, setNodes] = useState<GridNode[] | null>(null);
  const [overlay, setOverlay] = useState<Overlay>({});
  useEffect(() => {
    if (result.data) {
      setNodes(result.data.integrations.nodes);
      setOverlay({});
    }
  }, [result.data]);
  const refresh = useDebounced(() => refetch({ requestPolicy: 'network-only' }), 400);
  useEffect(() => {
    const { unsubscribe } = client.subscription(HealthChangedSubscription, { projectId }).subscribe((r) => {
      const change = r.data?.healthChanged;
      if (!change) return;
      let missing = false;
      setNodes((list) => {
        if (!list) return list;
        const out = applyHealthChange(list, change);
        missing = !out.found;
        return out.items;
      });
      if (missing) refresh();
    });
    return unsubscribe;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, projectId]);
  const items = useMemo(
    () => (nodes ? [...applyOverlay(nodes, overlay)].sort((a, b) => healthRank(a.health.status) - healthRank(b.health.status) || a.name.localeCompare(b.name)) : null),
    [nodes, overlay],
  );
  return {
    items,
    error: result.error,
    truncated: (result.data?.integrations.totalCount ?? 0) > GRID_MAX,
    counts: countByHealth(items ?? []),
    onEvent(event: Parameters<typeof integrationPatchFromEvent>[0]) {
      const patch = integrationPatchFromEvent(event);
      if (patch) setOverlay((o) => addPatch(o, patch));
      // A new or deleted integration, or one this list has not seen: read the list again.
      if (event.type === 'integration.created' || event.type === 'integration.deleted' || !patch) refresh();
    },
  };
}
