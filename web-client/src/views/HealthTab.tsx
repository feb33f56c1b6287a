// An integration's health: status, score, figures per window, history charts, transitions,
// "Check now", the health-check editor, and the integration's alerts. Live from
// `healthChanged` and `alerts`.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { HealthChangedSubscription, IntegrationHealthQuery, RunHealthCheckMutation, UpdateHealthCheckMutation } from '../api/operations';
import type { HealthWindow, IntegrationHealthQuery as HealthData } from '../gql/graphql';
import { useSession } from '../context';
import { Card, ConfirmDialog, ErrorBox, Loading } from '../components/ui';
import { AlertList, HealthBadge } from '../components/health';
import { TimeChart, type Series } from '../components/Chart';
import {
  HEALTH_WINDOWS, formatErrorRate, formatLatency, formatScore, formatSeconds, formatUptime, scoreTone, windowLabel,
} from '../lib/health';
import { healthCheckFieldOf, healthCheckFormFrom, toHealthCheckInput, type HealthCheckForm } from '../lib/healthCheckForm';
import { describeError, errorField } from '../lib/errors';
import { formatDateTime, formatMs, formatNumber, formatRelative } from '../lib/format';
import { useAlertFeed } from '../lib/useAlerts';
import { HealthCheckFields } from './HealthCheckFields';

type Integration = NonNullable<HealthData['integration']>;
type Health = Integration['health'];

export function HealthTab({ id, onChanged }: { id: string; onChanged(): void }) {
  const { client } = useSession();
  const [window, setWindow] = useState<HealthWindow>('HOUR');
  const [result, refetch] = useQuery({ query: IntegrationHealthQuery, variables: { id, window } });
  const reload = () => refetch({ requestPolicy: 'network-only' });
  // Live: a health change of this integration reloads the figures (and the header badge).
  useEffect(() => {
    const { unsubscribe } = client.subscription(HealthChangedSubscription, { integrationId: id }).subscribe((r) => {
      if (r.data?.healthChanged) {
        reload();
        onChanged();
      }
    });
    return unsubscribe;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, id]);
  const integration = result.data?.integration;
  if (!integration) return result.error ? <ErrorBox error={result.error} /> : <Loading label="Loading health…" />;
  const h = integration.health;
  return (
    <>
      <ErrorBox error={result.error} />
      <StatusPanel integration={integration} reload={() => { reload(); onChanged(); }} />
      <Figures health={h} />
      <section class="panel" aria-labelledby="history-title">
        <div class="panel-head">
          <h2 id="history-title">History</h2>
          <div class="row">
            <label for="health-window">Window</label>
            <select id="health-window" value={window} onChange={(e) => setWindow(e.currentTarget.value as HealthWindow)}>
              {HEALTH_WINDOWS.map((w) => <option key={w} value={w}>{windowLabel(w)}</option>)}
            </select>
          </div>
        </div>
        <HistoryCharts history={h.history} />
      </section>
      <div class="grid-2">
        <Transitions health={h} />
        <IntegrationAlerts id={id} />
      </div>
      <HealthCheckEditor integration={integration} onSaved={() => { reload(); onChanged(); }} />
    </>
  );
}

function StatusPanel({ integration, reload }: { integration: Integration; reload(): void }) {
  const { canEdit } = useSession();
  const h = integration.health;
  const [runState, run] = useMutation(RunHealthCheckMutation);
  const r = runState.data?.runHealthCheck;
  return (
    <section class="panel" aria-labelledby="health-status-title">
      <div class="panel-head">
        <h2 id="health-status-title">Health</h2>
        {canEdit ? (
          <button type="button" class="primary" disabled={runState.fetching || !integration.healthCheck}
            title={integration.healthCheck ? undefined : 'Configure a health check first'}
            onClick={async () => { await run({ id: integration.id }); reload(); }}>
            {runState.fetching ? 'Checking…' : 'Check now'}
          </button>
        ) : null}
      </div>
      <div class="row" data-testid="health-status">
        <HealthBadge status={h.status} reason={h.reason} />
        <span>{h.reason ?? (h.checked ? 'No check has run yet.' : 'Not checked on a schedule.')}</span>
      </div>
      <ErrorBox error={runState.error} />
      {r ? (
        <div class={`result-box tone-${r.ok ? 'ok' : 'bad'}`} role="status" data-testid="check-result">
          <strong>{r.ok ? 'Check passed' : 'Check failed'}</strong>
          {r.error ? `: ${r.error}` : ''}
          <div class="muted">Status {r.statusCode ?? 'none'} · {formatMs(r.latencyMs)} · health now <HealthBadge status={r.health} /> · {formatDateTime(r.checkedAt)}</div>
        </div>
      ) : null}
      <dl class="props">
        <dt>Scheduled checks</dt>
        <dd>{h.checked ? `every ${formatSeconds(integration.healthCheck?.intervalSeconds)}` : integration.healthCheck ? 'configured, not running (disabled or not ACTIVE)' : 'none'}</dd>
        <dt>Last check</dt><dd>{h.lastCheckedAt ? <span title={formatDateTime(h.lastCheckedAt)}>{formatRelative(h.lastCheckedAt)} ({formatMs(h.lastLatencyMs)})</span> : '—'}</dd>
        <dt>Next check</dt><dd>{h.nextCheckAt ? <span title={formatDateTime(h.nextCheckAt)}>{formatRelative(h.nextCheckAt)}</span> : '—'}</dd>
        <dt>Failures in a row</dt><dd>{h.consecutiveFailures}</dd>
        <dt>Last error</dt><dd>{h.lastError ?? '—'}</dd>
        <dt>Status since</dt><dd>{formatDateTime(h.changedAt)}</dd>
      </dl>
    </section>
  );
}

function Figures({ health: h }: { health: Health }) {
  const rows = [
    { w: 'HOUR', uptime: h.hourUptime, p50: h.hourP50, p95: h.hourP95, p99: h.hourP99, errors: h.hourErrors, counts: h.hourCounts },
    { w: 'DAY', uptime: h.dayUptime, p50: h.dayP50, p95: h.dayP95, p99: h.dayP99, errors: h.dayErrors, counts: h.dayCounts },
    { w: 'WEEK', uptime: h.weekUptime, p50: h.weekP50, p95: h.weekP95, p99: h.weekP99, errors: h.weekErrors, counts: h.weekCounts },
  ];
  return (
    <section aria-labelledby="figures-title">
      <h2 id="figures-title">Figures</h2>
      <div class="cards">
        <Card label="Health score" value={formatScore(h.score)} tone={scoreTone(h.score) === 'ok' ? undefined : scoreTone(h.score)} hint="uptime, latency, errors over a day" />
        <Card label="Uptime (day)" value={formatUptime(h.dayUptime)} />
        <Card label="p95 latency (day)" value={formatLatency(h.dayP95)} />
        <Card label="Error rate (day)" value={formatErrorRate(h.dayErrors)} tone={h.dayErrors ? 'warn' : undefined} />
      </div>
      <table class="table figures">
        <caption class="sr-only">Health figures per window</caption>
        <thead>
          <tr>
            <th scope="col">Window</th><th scope="col">Uptime</th><th scope="col">p50</th><th scope="col">p95</th><th scope="col">p99</th>
            <th scope="col">Error rate</th><th scope="col">Checks (failed)</th><th scope="col">Calls (failed)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.w}>
              <th scope="row">{windowLabel(r.w)}</th>
              <td>{formatUptime(r.uptime)}</td>
              <td>{formatLatency(r.p50)}</td>
              <td>{formatLatency(r.p95)}</td>
              <td>{formatLatency(r.p99)}</td>
              <td>{formatErrorRate(r.errors)}</td>
              <td>{formatNumber(r.counts.checks)} ({formatNumber(r.counts.checkFailures)})</td>
              <td>{formatNumber(r.counts.calls)} ({formatNumber(r.counts.callFailures)})</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function HistoryCharts({ history }: { history: Health['history'] }) {
  const times = useMemo(() => history.map((p) => Date.parse(p.at) / 1000), [history]);
  const uptime: Series[] = useMemo(
    () => [{ label: 'Uptime', colorVar: '--ok', values: history.map((p) => (p.uptime === null || p.uptime === undefined ? null : p.uptime * 100)) }],
    [history],
  );
  const latency: Series[] = useMemo(
    () => [
      { label: 'p95', colorVar: '--warn', values: history.map((p) => p.latencyP95Ms ?? null) },
      { label: 'Average', colorVar: '--accent', values: history.map((p) => p.averageLatencyMs ?? null) },
    ],
    [history],
  );
  return (
    <div class="grid-2">
      <TimeChart title="Uptime (%)" times={times} series={uptime} unit="%" yMax={100} />
      <TimeChart title="Latency" times={times} series={latency} />
    </div>
  );
}

function Transitions({ health }: { health: Health }) {
  return (
    <section class="panel" aria-labelledby="transitions-title">
      <h2 id="transitions-title">Status changes</h2>
      {health.transitions.length === 0 ? (
        <p class="muted">No status change yet.</p>
      ) : (
        <ol class="transitions" data-testid="transitions">
          {health.transitions.map((t) => (
            <li key={t.id}>
              <time dateTime={t.at} title={formatDateTime(t.at)}>{formatRelative(t.at)}</time>
              <HealthBadge status={t.previous} /> <span aria-label="to">→</span> <HealthBadge status={t.current} />
              <span>{t.reason}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function IntegrationAlerts({ id }: { id: string }) {
  const feed = useAlertFeed({ integrationId: id, resolvedKeep: 20 });
  return (
    <section class="panel" aria-labelledby="int-alerts-title">
      <h2 id="int-alerts-title">Alerts</h2>
      <ErrorBox error={feed.error} />
      {feed.loading ? <Loading /> : <AlertList alerts={feed.alerts} feed={feed} empty="No alerts about this integration." showIntegration={false} compact />}
    </section>
  );
}

function HealthCheckEditor({ integration, onSaved }: { integration: Integration; onSaved(): void }) {
  const { canEdit } = useSession();
  const [form, setForm] = useState<HealthCheckForm>(() => healthCheckFormFrom(integration.healthCheck));
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [state, save] = useMutation(UpdateHealthCheckMutation);
  const [saved, setSaved] = useState<string | null>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const serverError = describeError(state.error ?? null);
  const field = healthCheckFieldOf(errorField(serverError));
  const set = <K extends keyof HealthCheckForm>(key: K, value: HealthCheckForm[K]) => { setForm((f) => ({ ...f, [key]: value })); setSaved(null); };
  if (!canEdit) return null;
  const submit = async (e: Event) => {
    e.preventDefault();
    const parsed = toHealthCheckInput(form);
    setProblems(parsed.errors);
    if (!parsed.value) return;
    const r = await save({ id: integration.id, healthCheck: parsed.value });
    if (r.data) {
      setForm(healthCheckFormFrom(r.data.updateIntegration.integration.healthCheck));
      setSaved('Health check saved.');
      onSaved();
    }
  };
  const remove = async () => {
    const r = await save({ id: integration.id, healthCheck: null });
    setConfirmRemove(false);
    if (r.data) {
      setForm(healthCheckFormFrom(null));
      setSaved('Health check removed: health now comes from real calls only.');
      onSaved();
    }
  };
  return (
    <section class="panel spaced" aria-labelledby="hc-title">
      <h2 id="hc-title">Health check</h2>
      <p class="muted">{integration.healthCheck ? 'What the scheduled check sends and what counts as healthy.' : 'None yet: health comes from real calls. Save to schedule checks.'}</p>
      <form class="form" onSubmit={submit} noValidate aria-label="Health check">
        {serverError && !field ? <ErrorBox view={serverError} /> : null}
        <HealthCheckFields form={form} set={set} prefix="hc" error={(k) => problems[k] ?? (field === k ? serverError?.message : null)} />
        <div class="row">
          <button type="submit" class="primary" disabled={state.fetching}>{integration.healthCheck ? 'Save health check' : 'Add health check'}</button>
          {integration.healthCheck ? <button type="button" class="danger" onClick={() => setConfirmRemove(true)}>Remove health check…</button> : null}
          {saved ? <span role="status" class="ok-text">{saved}</span> : null}
        </div>
      </form>
      <ConfirmDialog open={confirmRemove} title="Remove the health check?" confirmLabel="Remove health check" danger busy={state.fetching}
        onConfirm={remove} onCancel={() => setConfirmRemove(false)}>
        <p>Scheduled checks stop; the integration's health then comes from real calls only.</p>
      </ConfirmDialog>
    </section>
  );
}
