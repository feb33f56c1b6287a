// Alert ordering and live merging.

export type AlertStateName = 'FIRING' | 'ACKNOWLEDGED' | 'RESOLVED';

export interface AlertLike {
  id: string;
  state: string;
  severity: string;
  firedAt: string;
  resolvedAt?: string | null;
  acknowledgedAt?: string | null;
}

const STATE_RANK: Record<string, number> = { FIRING: 0, ACKNOWLEDGED: 1, RESOLVED: 2 };
const SEVERITY_RANK: Record<string, number> = { CRITICAL: 0, WARNING: 1, INFO: 2 };

function time(iso: string | null | undefined): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** FIRING first, then ACKNOWLEDGED, then RESOLVED; within a state CRITICAL first, then newest. */
export function compareAlerts(a: AlertLike, b: AlertLike): number {
  const s = (STATE_RANK[a.state] ?? 3) - (STATE_RANK[b.state] ?? 3);
  if (s) return s;
  if (a.state === 'RESOLVED') {
    // Resolved ones: the most recently resolved first.
    const r = time(b.resolvedAt ?? b.firedAt) - time(a.resolvedAt ?? a.firedAt);
    if (r) return r;
  }
  const v = (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3);
  if (v) return v;
  const f = time(b.firedAt) - time(a.firedAt);
  if (f) return f;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function sortAlerts<T extends AlertLike>(alerts: T[]): T[] {
  return [...alerts].sort(compareAlerts);
}

/** Replaces the alert with the same id (or adds it), keeps the order, at most `max`. */
export function upsertAlert<T extends AlertLike>(alerts: T[], alert: T, max = 500): T[] {
  const rest = alerts.filter((a) => a.id !== alert.id);
  return sortAlerts([alert, ...rest]).slice(0, max);
}

/** The alerts of one state (a tab of the alerts page). */
export function alertsInState<T extends AlertLike>(alerts: T[], state: AlertStateName): T[] {
  return sortAlerts(alerts.filter((a) => a.state === state));
}

export function severityTone(severity: string): 'bad' | 'warn' | 'info' {
  return severity === 'CRITICAL' ? 'bad' : severity === 'WARNING' ? 'warn' : 'info';
}

export function alertStateTone(state: string): 'bad' | 'warn' | 'ok' {
  return state === 'FIRING' ? 'bad' : state === 'ACKNOWLEDGED' ? 'warn' : 'ok';
}

/** Rule kinds that take a threshold, and its unit. */
export const THRESHOLD_UNITS: Record<string, string> = { LATENCY_P95: 'ms', ERROR_RATE: '%', SUCCESS_RATE: '%' };
export const RULE_KINDS = ['HEALTH_TRANSITION', 'LATENCY_P95', 'ERROR_RATE', 'SUCCESS_RATE', 'CIRCUIT_OPEN', 'WEBHOOK_DISABLED'] as const;
export const SEVERITIES = ['INFO', 'WARNING', 'CRITICAL'] as const;

/** "2 of 3" for m-of-n. */
export function formatMofN(breaches: number, evaluations: number): string {
  return `${breaches} of ${evaluations}`;
}
