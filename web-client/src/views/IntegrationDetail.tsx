// One integration: metrics, executions, live logs, API explorer, credentials, edit.
import { useEffect, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import type { Client } from '@urql/core';
import {
  DeleteIntegrationMutation, ExecutionsPageQuery, IntegrationLogsPageQuery, IntegrationQuery,
  SetIntegrationEnabledMutation, TestConnectionMutation,
} from '../api/operations';
import type { IntegrationQuery as IntegrationData, TimeWindow } from '../gql/graphql';
import { useSession } from '../context';
import { Badge, Card, ConfirmDialog, ErrorBox, Loading } from '../components/ui';
import { ExecutionsFeed, LogTail, type ExecutionLine, type LogLine } from '../components/feeds';
import { fetchNewest } from '../lib/live';
import { formatBytes, formatDateTime, formatMs, formatNumber, formatPercent, formatRelative, humanizeEnum, prettyJson } from '../lib/format';
import { INTEGRATION_TABS, href, navigate } from '../lib/router';
import { IntegrationForm } from './IntegrationForm';
import { ApiExplorer, BatchPanel } from './ApiExplorer';
import { CredentialsPanel, CredentialsStatus } from './Credentials';
import { HealthTab } from './HealthTab';
import { HealthBadge } from '../components/health';
import { useDebounced, useProjectEvents } from '../lib/liveEvents';
import { lazyView } from '../components/Lazy';
import { ReadinessPanel } from '../components/Readiness';
import { oauthOutcome } from '../lib/wizard';

type Integration = NonNullable<IntegrationData['integration']>;

const SyncTab = lazyView(() => import('./SyncTab').then((m) => m.SyncTab));

const TAB_LABELS: Record<string, string> = {
  overview: 'Overview', health: 'Health', sync: 'Sync', executions: 'Executions', logs: 'Logs', explorer: 'API explorer', credentials: 'Credentials', edit: 'Edit',
};
const WINDOWS: TimeWindow[] = ['LAST_HOUR', 'LAST_DAY', 'LAST_WEEK', 'LAST_MONTH'];

export function IntegrationDetail({ id, tab }: { id: string; tab: string }) {
  const { canEdit } = useSession();
  const [window, setWindow] = useState<TimeWindow>('LAST_DAY');
  const [result, refetch] = useQuery({ query: IntegrationQuery, variables: { id, window } });
  const integration = result.data?.integration;
  // Changed elsewhere (edited, enabled, deleted, health): reload.
  const refresh = useDebounced(() => refetch({ requestPolicy: 'network-only' }), 300);
  useProjectEvents(['integration.*'], (event) => {
    const data = (event.payload as { data?: { integration?: { id?: string } } } | null)?.data;
    if (data?.integration?.id === id) refresh();
  });
  if (result.error && !integration) {
    return (
      <>
        <p class="crumbs"><a href={href({ name: 'integrations' })}>Integrations</a> /</p>
        <ErrorBox error={result.error} />
      </>
    );
  }
  if (!integration) return result.fetching ? <Loading /> : <p>Not found. <a href={href({ name: 'integrations' })}>Back to integrations</a></p>;
  const tabs = INTEGRATION_TABS.filter((t) => canEdit || (t !== 'edit' && t !== 'explorer'));
  const reload = () => refetch({ requestPolicy: 'network-only' });
  return (
    <>
      <div class="page-head">
        <p class="crumbs"><a href={href({ name: 'integrations' })}>Integrations</a> / {integration.project.name}</p>
        <div class="row space">
          <h1>{integration.name}</h1>
          <div class="row">
            <HealthBadge status={integration.health.status} reason={integration.health.reason} />
            <Badge value={integration.status} />
            <Badge value={String(integration.enabled)} label={integration.enabled ? 'Enabled' : 'Disabled'} />
            <Badge value={integration.circuitState} label={`Circuit ${humanizeEnum(integration.circuitState).toLowerCase()}`} />
          </div>
        </div>
        {integration.description ? <p class="muted">{integration.description}</p> : null}
      </div>
      <nav class="tabs" aria-label="Integration sections">
        {tabs.map((t) => (
          <a key={t} href={href({ name: 'integration', id, tab: t })} aria-current={tab === t ? 'page' : undefined}>{TAB_LABELS[t]}</a>
        ))}
      </nav>
      {result.error ? <ErrorBox error={result.error} /> : null}
      <OAuthOutcome />
      {tab === 'overview' ? <OverviewTab integration={integration} window={window} setWindow={setWindow} reload={reload} /> : null}
      {tab === 'health' ? <HealthTab id={id} onChanged={reload} /> : null}
      {tab === 'sync' ? <SyncTab id={id} /> : null}
      {tab === 'executions' ? <ExecutionsTab id={id} /> : null}
      {tab === 'logs' ? <LogsTab id={id} /> : null}
      {tab === 'explorer' && canEdit ? <><ApiExplorer integration={integration} /><BatchPanel integration={integration} /></> : null}
      {tab === 'credentials' ? <CredentialsPanel integration={integration} /> : null}
      {tab === 'edit' && canEdit ? (
        <IntegrationForm existing={integration} onSaved={() => { reload(); navigate(href({ name: 'integration', id, tab: 'overview' })); }} />
      ) : null}
    </>
  );
}

function OverviewTab({ integration, window, setWindow, reload }: {
  integration: Integration; window: TimeWindow; setWindow(w: TimeWindow): void; reload(): void;
}) {
  const { canEdit } = useSession();
  const m = integration.metrics;
  const [testState, test] = useMutation(TestConnectionMutation);
  const [enableState, setEnabled] = useMutation(SetIntegrationEnabledMutation);
  const [deleteState, remove] = useMutation(DeleteIntegrationMutation);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const t = testState.data?.testConnection;
  const doTest = async () => {
    await test({ id: integration.id });
    reload();
  };
  const doDelete = async () => {
    const r = await remove({ id: integration.id });
    if (r.data) {
      setConfirmDelete(false);
      navigate(href({ name: 'integrations' }));
    }
  };
  return (
    <>
      {canEdit ? (
        <section class="actions" aria-label="Actions">
          <button type="button" class="primary" onClick={doTest} disabled={testState.fetching}>
            {testState.fetching ? 'Testing…' : 'Test connection'}
          </button>
          <button type="button" onClick={async () => { await setEnabled({ id: integration.id, enabled: !integration.enabled }); reload(); }} disabled={enableState.fetching}>
            {integration.enabled ? 'Disable' : 'Enable'}
          </button>
          <a class="button" href={href({ name: 'integration', id: integration.id, tab: 'edit' })}>Edit</a>
          <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>Delete…</button>
        </section>
      ) : null}
      <ErrorBox error={testState.error} />
      <ErrorBox error={enableState.error} />
      {t ? (
        <div class={`result-box tone-${t.ok ? 'ok' : 'bad'}`} role="status" data-testid="test-result">
          <strong>{t.ok ? 'Connection works' : 'Connection failed'}</strong>: {t.message}
          <div class="muted">
            Status {t.statusCode ?? 'none'} · {formatMs(t.latencyMs)}{t.errorClass ? ` · ${humanizeEnum(t.errorClass)}` : ''}
          </div>
        </div>
      ) : null}
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete ${integration.name}?`}
        confirmLabel="Delete integration"
        danger
        busy={deleteState.fetching}
        onConfirm={doDelete}
        onCancel={() => setConfirmDelete(false)}
      >
        <p>This removes the integration, its credentials and its settings. Calls through it stop at once. This cannot be undone.</p>
        <ErrorBox error={deleteState.error} />
      </ConfirmDialog>

      <section aria-labelledby="metrics-title">
        <div class="row space">
          <h2 id="metrics-title">Metrics</h2>
          <div class="row">
            <label for="metrics-window">Window</label>
            <select id="metrics-window" value={window} onChange={(e) => setWindow(e.currentTarget.value as TimeWindow)}>
              {WINDOWS.map((w) => <option key={w} value={w}>{humanizeEnum(w)}</option>)}
            </select>
          </div>
        </div>
        <div class="cards">
          <Card label="Calls" value={formatNumber(m.totalRequests)} hint={`${formatNumber(m.successCount)} ok · ${formatNumber(m.failureCount)} failed`} />
          <Card label="Success rate" value={formatPercent(m.successRate)} tone={m.successRate !== null && m.successRate !== undefined && m.successRate < 0.95 ? 'warn' : undefined} />
          <Card label="Average latency" value={formatMs(m.averageLatencyMs)} />
          <Card label="p95 latency" value={formatMs(m.p95LatencyMs)} />
          <Card label="Traffic" value={formatBytes(m.bytesIn)} hint={`in · ${formatBytes(m.bytesOut)} out`} />
          <Card label="Last activity" value={formatRelative(m.lastActivityAt)} hint={formatDateTime(m.lastActivityAt)} />
        </div>
      </section>

      <div class="grid-2">
        <section class="panel" aria-labelledby="settings-title">
          <h2 id="settings-title">Settings</h2>
          <dl class="props">
            <dt>ID</dt><dd><code>{integration.id}</code></dd>
            <dt>Category</dt><dd>{humanizeEnum(integration.category)}</dd>
            <dt>Protocol</dt><dd>{integration.protocol}</dd>
            <dt>Template</dt><dd>{integration.template ? <a href={href({ name: 'template', id: integration.template.id })}>{integration.template.name} v{integration.template.version}</a> : 'none (configured by hand)'}</dd>
            <dt>Base URL</dt><dd><code>{integration.baseUrl ?? '—'}</code></dd>
            <dt>Tags</dt><dd>{integration.tags.length ? integration.tags.map((t) => <span class="tag" key={t}>{t}</span>) : '—'}</dd>
            <dt>Timeout</dt><dd>{formatMs(integration.timeoutMs)}</dd>
            <dt>Retries</dt><dd>{integration.retryPolicy.maxRetries} (backoff {formatMs(integration.retryPolicy.baseDelayMs)}–{formatMs(integration.retryPolicy.maxDelayMs)})</dd>
            <dt>Rate limit</dt><dd>{integration.rateLimit ? `${integration.rateLimit.requestsPerMinute}/min, burst ${integration.rateLimit.burst}` : 'none'}</dd>
            <dt>Cache</dt><dd>{integration.cache.enabled ? `GET answers for ${integration.cache.ttlSeconds} s` : 'off'}</dd>
            <dt>Connection check</dt><dd><code>{integration.connectionCheck ? `${integration.connectionCheck.method} ${integration.connectionCheck.path}` : 'GET /'}</code>{integration.connectionCheck?.expectedStatus.length ? ` expecting ${integration.connectionCheck.expectedStatus.join(', ')}` : ' expecting 2xx'}</dd>
            <dt>Incoming webhooks</dt><dd>{integration.incomingWebhook ? <><code>POST {integration.incomingWebhook.path}</code> ({humanizeEnum(integration.incomingWebhook.scheme)})</> : 'not set'}</dd>
            <dt>Version</dt><dd>{integration.version}</dd>
            <dt>Created</dt><dd>{formatDateTime(integration.createdAt)} by {integration.createdBy}</dd>
            <dt>Updated</dt><dd>{formatDateTime(integration.updatedAt)}</dd>
          </dl>
          {integration.config && Object.keys(integration.config as object).length ? (
            <details><summary>Config</summary><pre class="code">{prettyJson(integration.config)}</pre></details>
          ) : null}
          {integration.headers && Object.keys(integration.headers as object).length ? (
            <details><summary>Extra headers</summary><pre class="code">{prettyJson(integration.headers)}</pre></details>
          ) : null}
        </section>
        <div class="stack">
          <ReadinessPanel readiness={integration.readiness} />
          <CredentialsStatus integration={integration} />
        </div>
      </div>
    </>
  );
}

/** The page OAuth returns to carries `?oauth=connected` or `?oauth=error&reason=…`. */
function OAuthOutcome() {
  const [outcome] = useState(() => oauthOutcome(location.search));
  useEffect(() => {
    if (outcome) history.replaceState(null, '', location.pathname);
  }, [outcome]);
  if (!outcome) return null;
  return outcome.ok ? (
    <p class="result-box tone-ok" role="status">Connected with OAuth: the provider's tokens are stored (sealed).</p>
  ) : (
    <div class="result-box tone-bad" role="alert">OAuth connection failed{outcome.reason ? `: ${outcome.reason}` : ''}. Check the client ID and secret, then connect again from the Credentials tab.</div>
  );
}

async function loadNewestExecutions(client: Client, id: string) {
  return fetchNewest<ExecutionLine>(async (after) => {
    const r = await client.query(ExecutionsPageQuery, { id, first: 500, after }, { requestPolicy: 'network-only' }).toPromise();
    const c = r.data?.integration?.executions;
    if (r.error) throw r.error;
    return c ? { nodes: c.nodes, hasNextPage: c.pageInfo.hasNextPage, endCursor: c.pageInfo.endCursor } : null;
  }, 50, 6);
}

function ExecutionsTab({ id }: { id: string }) {
  const { client } = useSession();
  const [seed, setSeed] = useState<ExecutionLine[] | undefined>(undefined);
  const [complete, setComplete] = useState(true);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    loadNewestExecutions(client, id).then((r) => { setSeed(r.items); setComplete(r.complete); }, setError);
  }, [client, id]);
  if (error) return <ErrorBox error={error as never} />;
  if (!seed) return <Loading label="Loading recent executions…" />;
  return (
    <>
      {!complete ? <p class="muted">Only the first 3,000 records were read; the newest older ones may be missing (the API lists executions oldest first).</p> : null}
      <ExecutionsFeed client={client} integrationId={id} seed={seed} title="Recent and live executions" />
    </>
  );
}

function LogsTab({ id }: { id: string }) {
  const { client } = useSession();
  const [seed, setSeed] = useState<LogLine[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    fetchNewest<LogLine>(async (after) => {
      const r = await client.query(IntegrationLogsPageQuery, { id, first: 500, after }, { requestPolicy: 'network-only' }).toPromise();
      if (r.error) throw r.error;
      const c = r.data?.integration?.logs;
      return c ? { nodes: c.nodes, hasNextPage: c.pageInfo.hasNextPage, endCursor: c.pageInfo.endCursor } : null;
    }, 200, 4).then((r) => setSeed(r.items), setError);
  }, [client, id]);
  if (error) return <ErrorBox error={error as never} />;
  if (!seed) return <Loading label="Loading recent log entries…" />;
  return <LogTail client={client} integrationId={id} seed={seed} title="Logs (recent and live)" showIntegration={false} />;
}

