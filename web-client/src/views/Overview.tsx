// Overview: counts from real queries, live log tail, live executions.
import { useEffect, useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { LogsPageQuery, OverviewQuery } from '../api/operations';
import { fetchNewest } from '../lib/live';
import { useSession } from '../context';
import { Card, ErrorBox } from '../components/ui';
import { ExecutionsFeed, LogTail, type LogLine } from '../components/feeds';
import { formatNumber } from '../lib/format';
import { href } from '../lib/router';

export function Overview() {
  const { client, projectId, projects } = useSession();
  const [result] = useQuery({ query: OverviewQuery, variables: { projectId } });
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
      </section>
      <div class="grid-2">
        <ExecutionsFeed client={client} projectId={projectId} />
        <LogTail key={projectId ?? 'all'} client={client} projectId={projectId} seed={seed} />
      </div>
    </>
  );
}
