// Health badges and grid, alert lists with acknowledge / resolve.
import { useMutation } from '@urql/preact';
import { AcknowledgeAlertMutation, ResolveAlertMutation } from '../api/operations';
import { healthLabel, healthSymbol, healthTone } from '../lib/health';
import { alertStateTone, severityTone } from '../lib/alerts';
import type { AlertFeed, AlertItem } from '../lib/useAlerts';
import { formatDateTime, formatRelative, humanizeEnum } from '../lib/format';
import { href } from '../lib/router';
import { useSession } from '../context';
import { Empty, ErrorBox } from './ui';

export function HealthBadge({ status, reason }: { status: string; reason?: string | null }) {
  return (
    <span class={`badge health tone-${healthTone(status)}`} title={reason ?? undefined} data-health={status}>
      <span aria-hidden="true">{healthSymbol(status)}</span> {healthLabel(status)}
    </span>
  );
}

export interface GridItem {
  id: string;
  name: string;
  enabled: boolean;
  status: string;
  project?: { id: string; name: string } | null;
  health: { status: string; reason?: string | null; changedAt?: string | null; score?: number | null; checked?: boolean };
}

export function HealthGrid({ items, showProject }: { items: GridItem[]; showProject: boolean }) {
  if (!items.length) return <Empty>No integrations yet.</Empty>;
  return (
    <ul class="health-grid" data-testid="health-grid">
      {items.map((i) => (
        <li key={i.id} class={`health-tile tone-${healthTone(i.health.status)}`} data-integration={i.id} data-health={i.health.status}>
          <a href={href({ name: 'integration', id: i.id, tab: 'health' })}>
            <span class="health-tile-name">{i.name}</span>
            <HealthBadge status={i.health.status} reason={i.health.reason} />
          </a>
          <div class="muted small">
            {i.health.reason ?? (i.health.checked === false ? 'not checked on a schedule' : 'no data yet')}
          </div>
          <div class="muted small">
            {showProject && i.project ? `${i.project.name} · ` : ''}
            {!i.enabled ? 'disabled · ' : ''}
            {i.health.changedAt ? <span title={formatDateTime(i.health.changedAt)}>since {formatRelative(i.health.changedAt)}</span> : null}
          </div>
        </li>
      ))}
    </ul>
  );
}

export function AlertActions({ alert, feed }: { alert: AlertItem; feed: AlertFeed }) {
  const { canEdit } = useSession();
  const [ackState, ack] = useMutation(AcknowledgeAlertMutation);
  const [resState, resolve] = useMutation(ResolveAlertMutation);
  if (!canEdit || alert.state === 'RESOLVED') return null;
  return (
    <div class="row">
      {alert.state === 'FIRING' ? (
        <button type="button" disabled={ackState.fetching} aria-label={`Acknowledge: ${alert.summary}`}
          onClick={async () => { const r = await ack({ id: alert.id }); if (r.data) feed.patch(r.data.acknowledgeAlert.alert); }}>
          Acknowledge
        </button>
      ) : null}
      <button type="button" disabled={resState.fetching} aria-label={`Resolve: ${alert.summary}`}
        onClick={async () => { const r = await resolve({ id: alert.id }); if (r.data) feed.patch(r.data.resolveAlert.alert); }}>
        Resolve
      </button>
      <ErrorBox error={ackState.error ?? resState.error} />
    </div>
  );
}

export function AlertList({ alerts, feed, empty, showIntegration = true, compact = false }: {
  alerts: AlertItem[]; feed: AlertFeed; empty: string; showIntegration?: boolean; compact?: boolean;
}) {
  if (!alerts.length) return <Empty>{empty}</Empty>;
  return (
    <ul class="alert-list" data-testid="alert-list">
      {alerts.map((a) => (
        <li key={a.id} class={`alert-item tone-${alertStateTone(a.state)}`} data-alert={a.id} data-state={a.state}>
          <div class="row space">
            <div class="row">
              <span class={`badge tone-${alertStateTone(a.state)}`}>{humanizeEnum(a.state)}</span>
              <span class={`badge tone-${severityTone(a.severity)}`}>{humanizeEnum(a.severity)}</span>
              <strong>{a.summary}</strong>
            </div>
            {compact ? null : <AlertActions alert={a} feed={feed} />}
          </div>
          <div class="muted small">
            {humanizeEnum(a.kind)}
            {a.rule ? ` · rule “${a.rule.name}”` : ''}
            {showIntegration && a.integration ? <> · <a href={href({ name: 'integration', id: a.integration.id, tab: 'health' })}>{a.integration.name}</a></> : null}
            {' · '}fired <span title={formatDateTime(a.firedAt)}>{formatRelative(a.firedAt)}</span>
            {a.acknowledgedAt ? ` · acknowledged ${formatRelative(a.acknowledgedAt)}${a.acknowledgedBy ? ' by ' + a.acknowledgedBy : ''}` : ''}
            {a.resolvedAt ? ` · resolved ${formatRelative(a.resolvedAt)}${a.resolvedBy ? ' by ' + a.resolvedBy : ''}` : ''}
          </div>
          {compact ? <AlertActions alert={a} feed={feed} /> : null}
        </li>
      ))}
    </ul>
  );
}
