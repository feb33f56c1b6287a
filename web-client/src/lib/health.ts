// Health status presentation (colour tone + text label, never colour alone) and figures.
import type { HealthStatus } from '../gql/graphql';
import { formatMs, formatPercent } from './format';

export const HEALTH_STATUSES: HealthStatus[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN'];
export const HEALTH_WINDOWS = ['HOUR', 'DAY', 'WEEK'] as const;
export type HealthWindowName = (typeof HEALTH_WINDOWS)[number];

const TONE: Record<HealthStatus, 'ok' | 'warn' | 'bad' | 'muted'> = {
  HEALTHY: 'ok',
  DEGRADED: 'warn',
  UNHEALTHY: 'bad',
  UNKNOWN: 'muted',
};
const LABEL: Record<HealthStatus, string> = {
  HEALTHY: 'Healthy',
  DEGRADED: 'Degraded',
  UNHEALTHY: 'Unhealthy',
  UNKNOWN: 'Unknown',
};
/** A shape next to the label so the status reads without colour too. */
const SYMBOL: Record<HealthStatus, string> = {
  HEALTHY: '●',
  DEGRADED: '▲',
  UNHEALTHY: '✕',
  UNKNOWN: '?',
};

function known(status: string | null | undefined): HealthStatus {
  return (HEALTH_STATUSES as string[]).includes(status ?? '') ? (status as HealthStatus) : 'UNKNOWN';
}

/** HEALTHY → ok (green), DEGRADED → warn (amber), UNHEALTHY → bad (red), UNKNOWN/other → muted (grey). */
export function healthTone(status: string | null | undefined): 'ok' | 'warn' | 'bad' | 'muted' {
  return TONE[known(status)];
}

export function healthLabel(status: string | null | undefined): string {
  return LABEL[known(status)];
}

export function healthSymbol(status: string | null | undefined): string {
  return SYMBOL[known(status)];
}

/** Worst first: UNHEALTHY, DEGRADED, UNKNOWN, HEALTHY (the grid shows problems first). */
export function healthRank(status: string | null | undefined): number {
  return { UNHEALTHY: 0, DEGRADED: 1, UNKNOWN: 2, HEALTHY: 3 }[known(status)];
}

/** Counts per status, every status present (0 when none). */
export function countByHealth(items: { health: { status: string } }[]): Record<HealthStatus, number> {
  const out: Record<HealthStatus, number> = { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 };
  for (const i of items) out[known(i.health.status)]++;
  return out;
}

/** Score 0-100 → "87 / 100"; null (no data) → "—". */
export function formatScore(score: number | null | undefined): string {
  if (score === null || score === undefined || Number.isNaN(score)) return '—';
  return `${Math.round(score)} / 100`;
}

/** Score tone: ≥ 90 ok, ≥ 60 warn, below bad; null muted. */
export function scoreTone(score: number | null | undefined): 'ok' | 'warn' | 'bad' | 'muted' {
  if (score === null || score === undefined) return 'muted';
  if (score >= 90) return 'ok';
  if (score >= 60) return 'warn';
  return 'bad';
}

/** Uptime 0-1 with two decimals (99.95 % matters): null → "—". */
export function formatUptime(ratio: number | null | undefined): string {
  return formatPercent(ratio, 2);
}

/** Error rate 0-1: null → "—". */
export function formatErrorRate(ratio: number | null | undefined): string {
  return formatPercent(ratio, 2);
}

export function formatLatency(ms: number | null | undefined): string {
  return formatMs(ms);
}

/** HOUR → "Last hour" etc. */
export function windowLabel(w: string): string {
  return w === 'HOUR' ? 'Last hour' : w === 'DAY' ? 'Last day' : w === 'WEEK' ? 'Last week' : w;
}

/** Seconds → "10 s", "5 min", "2 h", "1 d 2 h" (health-check intervals, rule windows). */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return seconds % 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds / 60} min`;
  if (seconds < 86_400) return seconds % 3600 ? `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min` : `${seconds / 3600} h`;
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  return h ? `${d} d ${h} h` : `${d} d`;
}

export interface HealthChangeLike {
  integrationId: string;
  current: string;
  reason?: string | null;
  at: string;
}

/**
 * Applies a live health change to a list of integrations. Returns the new list, and
 * `found: false` when the integration is not in the list (the caller refetches).
 */
export function applyHealthChange<T extends { id: string; health: { status: string; reason?: string | null; changedAt?: string | null } }>(
  items: T[],
  change: HealthChangeLike,
): { items: T[]; found: boolean } {
  let found = false;
  const next = items.map((item) => {
    if (item.id !== change.integrationId) return item;
    found = true;
    return { ...item, health: { ...item.health, status: change.current, reason: change.reason ?? null, changedAt: change.at } };
  });
  return { items: found ? next : items, found };
}
