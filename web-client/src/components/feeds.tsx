// Live feeds: log tail and executions, fed by the `logs` and `executions` subscriptions.
import { useMemo, useState } from 'preact/hooks';
import type { Client } from '@urql/core';
import { ExecutionsSubscription, LogsSubscription } from '../api/operations';
import type { LiveExecutionsSubscription, LiveLogsSubscription, LogLevel } from '../gql/graphql';
import { LOG_LEVELS, atLeast } from '../lib/filters';
import { useLiveList } from '../lib/live';
import { formatMs, formatTime, humanizeEnum, statusTone } from '../lib/format';
import { href } from '../lib/router';
import { Badge, ErrorBox } from './ui';
import { TimeChart } from './Chart';

export type LogLine = Omit<LiveLogsSubscription['logs'], 'integration'> & { integration?: { id: string; name: string } | null };
export type ExecutionLine = Omit<LiveExecutionsSubscription['executions'], 'integration'> & {
  integration?: { id: string; name: string } | null;
};

export function LogList({ items, showIntegration }: { items: LogLine[]; showIntegration?: boolean }) {
  if (!items.length) return <p class="muted">Waiting for log entries…</p>;
  return (
    <ol class="log-list">
      {items.map((l) => (
        <li key={l.id} class={`log-line level-${l.level.toLowerCase()}`}>
          <time dateTime={l.at}>{formatTime(l.at)}</time>
          <Badge value={l.level} label={l.level} />
          {showIntegration && l.integration ? (
            <a href={href({ name: 'integration', id: l.integration.id, tab: 'logs' })} class="log-src">{l.integration.name}</a>
          ) : null}
          <span class="log-msg">{l.message}</span>
          {l.metadata && typeof l.metadata === 'object' && Object.keys(l.metadata as object).length ? (
            <code class="log-meta">{JSON.stringify(l.metadata)}</code>
          ) : null}
        </li>
      ))}
    </ol>
  );
}

/** Live log tail with a level filter and pause. */
export function LogTail({ client, projectId, integrationId, seed, title = 'Live logs', showIntegration = true }: {
  client: Client; projectId?: string | null; integrationId?: string; seed?: LogLine[]; title?: string; showIntegration?: boolean;
}) {
  const [minLevel, setMinLevel] = useState<LogLevel | ''>('');
  const vars = useMemo(
    () => ({ projectId: projectId ?? null, integrationId: integrationId ?? null, minLevel: minLevel || null }),
    [projectId, integrationId, minLevel],
  );
  const live = useLiveList(client, LogsSubscription, vars, (d) => d.logs as LogLine, { max: 300, seed });
  const shown = live.items.filter((l) => atLeast(l.level, minLevel));
  const id = `lvl-${integrationId ?? projectId ?? 'all'}`;
  return (
    <section class="panel" aria-labelledby={`${id}-title`}>
      <header class="panel-head">
        <h2 id={`${id}-title`}>{title}</h2>
        <div class="row">
          <label for={id}>Level</label>
          <select id={id} value={minLevel} onChange={(e) => setMinLevel((e.currentTarget.value || '') as LogLevel | '')}>
            <option value="">All</option>
            {LOG_LEVELS.map((l) => <option value={l} key={l}>{humanizeEnum(l)} and above</option>)}
          </select>
          <button type="button" aria-pressed={live.paused} onClick={() => live.setPaused(!live.paused)}>
            {live.paused ? `Resume${live.pending ? ` (${live.pending} new)` : ''}` : 'Pause'}
          </button>
          <button type="button" onClick={live.clear}>Clear</button>
        </div>
      </header>
      {live.error ? <ErrorBox view={live.error} /> : null}
      <div class="scroll" role="log" aria-label={title} tabIndex={0}>
        <LogList items={shown} showIntegration={showIntegration} />
      </div>
    </section>
  );
}

export function ExecutionTable({ items, showIntegration }: { items: ExecutionLine[]; showIntegration?: boolean }) {
  if (!items.length) return <p class="muted">No executions yet.</p>;
  return (
    <table class="table compact">
      <thead>
        <tr>
          <th scope="col">Time</th>
          {showIntegration ? <th scope="col">Integration</th> : null}
          <th scope="col">Request</th>
          <th scope="col">Status</th>
          <th scope="col">Latency</th>
          <th scope="col">Retries</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        {items.map((e) => (
          <tr key={e.id}>
            <td><time dateTime={e.startedAt}>{formatTime(e.startedAt)}</time></td>
            {showIntegration ? (
              <td>{e.integration ? <a href={href({ name: 'integration', id: e.integration.id, tab: 'executions' })}>{e.integration.name}</a> : '—'}</td>
            ) : null}
            <td><code>{e.method} {e.path}</code><div class="muted small">{humanizeEnum(e.operation)}</div></td>
            <td><span class={`badge tone-${e.success ? 'ok' : statusTone(e.statusCode)}`}>{e.statusCode ?? 'no answer'}</span>{e.cached ? <span class="muted"> cached</span> : null}</td>
            <td>{formatMs(e.latencyMs)}</td>
            <td>{e.retries}</td>
            <td>{e.errorClass ? <span title={e.errorMessage ?? ''}>{humanizeEnum(e.errorClass)}{e.recoveryAction ? ` → ${humanizeEnum(e.recoveryAction)}` : ''}</span> : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function latencySeries(items: ExecutionLine[]) {
  const sorted = [...items].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return {
    times: sorted.map((e) => new Date(e.startedAt).getTime() / 1000),
    ok: sorted.map((e) => (e.success ? e.latencyMs : null)),
    failed: sorted.map((e) => (e.success ? null : e.latencyMs)),
  };
}

export function LatencyChart({ items, title }: { items: ExecutionLine[]; title: string }) {
  const s = useMemo(() => latencySeries(items), [items]);
  const series = useMemo(
    () => [
      { label: 'succeeded', colorVar: '--ok', values: s.ok },
      { label: 'failed', colorVar: '--bad', values: s.failed },
    ],
    [s],
  );
  return <TimeChart title={title} times={s.times} series={series} />;
}

/** Live executions feed (newest first) with a latency chart. */
export function ExecutionsFeed({ client, projectId, integrationId, seed, title = 'Live executions', onItem }: {
  client: Client; projectId?: string | null; integrationId?: string; seed?: ExecutionLine[]; title?: string; onItem?(): void;
}) {
  const vars = useMemo(() => ({ projectId: projectId ?? null, integrationId: integrationId ?? null }), [projectId, integrationId]);
  const live = useLiveList(client, ExecutionsSubscription, vars, (d) => d.executions as ExecutionLine, { max: 200, seed, onItem });
  const id = `exec-${integrationId ?? projectId ?? 'all'}`;
  return (
    <section class="panel" aria-labelledby={`${id}-title`}>
      <header class="panel-head">
        <h2 id={`${id}-title`}>{title}</h2>
        <div class="row">
          <button type="button" aria-pressed={live.paused} onClick={() => live.setPaused(!live.paused)}>
            {live.paused ? `Resume${live.pending ? ` (${live.pending} new)` : ''}` : 'Pause'}
          </button>
        </div>
      </header>
      {live.error ? <ErrorBox view={live.error} /> : null}
      <LatencyChart items={live.items} title="Latency per call" />
      <div class="scroll" role="log" aria-label={title} tabIndex={0}>
        <ExecutionTable items={live.items} showIntegration={!integrationId} />
      </div>
    </section>
  );
}
