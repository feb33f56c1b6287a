// Overview: counts from real queries, health grid (live from `healthChanged`), recent alerts
// (live from `alerts`), live log tail, live executions; counts follow `events`.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { HealthChangedSubscription, HealthGridQuery, LogsPageQuery, StatsSubscription } from '../api/operations';
import type { HealthGridQuery as HealthGridData, LiveStatsSubscription } from '../gql/graphql';
import { AlertList, HealthGrid } from '../components/health';
import { applyHealthChange, countByHealth, healthLabel, healthRank, healthTone, HEALTH_STATUSES } from '../lib/health';
import { addPatch, applyOverlay, integrationPatchFromEvent, useDebounced, useProjectEvents, type Overlay } from '../lib/liveEvents';
import { useAlertFeed, type AlertFeed } from '../lib/useAlerts';
import { Loading } from '../components/ui';
import { fetchNewest } from '../lib/live';
import { useSession } from '../context';
import { Card, ErrorBox } from '../components/ui';
import { ExecutionsFeed, LogTail, type LogLine } from '../components/feeds';
import { formatMs, formatNumber, formatPercent, formatTime, humanizeEnum } from '../lib/format';
import type { CombinedError } from '@urql/core';
import { href } from '../lib/router';

export function Overview() {
  const { client, projectId, projects } = useSession();
  const alertFeed = useAlertFeed({ resolvedKeep: 10, withCounts: false });
  const grid = useHealthGrid();
  const stats = useLiveStats(projectId);
  useProjectEvents(['integration.*'], (e) => grid.onEvent(e));
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
  const s = stats.stats;
  const dash = '…';
  return (
    <>
      <div class="page-head row space">
        <div>
          <h1>Overview{project ? `: ${project.name}` : ''}</h1>
          <p class="muted">{project ? 'One project.' : 'All projects this token can see.'}</p>
        </div>
        <p class="muted small" aria-live="off" data-testid="stats-updated">
          {s ? <>Figures live from <code>stats</code> every {STATS_EVERY} s · computed {formatTime(s.computedAt).slice(0, 8)}</> : stats.error ? null : 'Connecting to live stats…'}
        </p>
      </div>
      <ErrorBox error={stats.error} />
      <section class="cards" aria-label="Live figures" data-testid="stat-cards">
        <Card
          label="Integrations"
          value={s ? <a href={href({ name: 'integrations' })} data-testid="stat-integrations">{formatNumber(s.integrations)}</a> : dash}
          hint={s ? `${formatNumber(s.activeIntegrations)} active (enabled and ACTIVE)` : undefined}
        />
        <Card
          label="Healthy"
          value={s ? `${formatNumber(s.healthyIntegrations)} / ${formatNumber(s.integrations)}` : dash}
          hint={s ? `${s.degradedIntegrations} degraded · ${s.unhealthyIntegrations} unhealthy · ${s.unknownIntegrations} unknown` : undefined}
          tone={s?.unhealthyIntegrations ? 'bad' : s?.degradedIntegrations ? 'warn' : undefined}
        />
        <Card
          label="API calls today"
          value={s ? <span data-testid="stat-calls-today">{formatNumber(s.apiCallsToday)}</span> : dash}
          hint={s ? `since midnight UTC · ${formatNumber(s.apiCalls)} in the ${humanizeEnum(s.window).toLowerCase()}` : undefined}
        />
        <Card
          label="Success rate"
          value={s ? formatPercent(s.successRate) : dash}
          hint={s ? `${humanizeEnum(s.window).toLowerCase()} · average ${formatMs(s.averageLatencyMs)}` : undefined}
          tone={s && s.successRate !== null && s.successRate !== undefined && s.successRate < 0.95 ? 'warn' : undefined}
        />
        <Card
          label="Webhooks active"
          value={s ? <a href={href({ name: 'webhooks' })}>{formatNumber(s.webhooksActive)}</a> : dash}
          hint={s ? `${formatNumber(s.deliveriesToday)} deliveries today · ${formatPercent(s.deliverySuccessRate)} delivered` : undefined}
          tone={s && s.deliverySuccessRate !== null && s.deliverySuccessRate !== undefined && s.deliverySuccessRate < 0.95 ? 'warn' : undefined}
        />
        <Card
          label="Alerts firing"
          value={s ? <a href={href({ name: 'alerts', tab: 'firing' })} data-testid="alerts-firing">{formatNumber(s.alertsFiring)}</a> : dash}
          tone={s?.alertsFiring ? 'bad' : undefined}
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

const STATS_EVERY = 5;

/** The `stats` subscription: fresh figures every few seconds, the first at once. */
function useLiveStats(projectId: string | null) {
  const { client } = useSession();
  const [stats, setStats] = useState<LiveStatsSubscription['stats'] | null>(null);
  const [error, setError] = useState<CombinedError | null>(null);
  useEffect(() => {
    setStats(null);
    setError(null);
    const { unsubscribe } = client.subscription(StatsSubscription, { projectId, everySeconds: STATS_EVERY }).subscribe((r) => {
      if (r.data?.stats) {
        setStats(r.data.stats);
        setError(null);
      } else if (r.error) setError(r.error);
    });
    return unsubscribe;
  }, [client, projectId]);
  return { stats, error };
}
