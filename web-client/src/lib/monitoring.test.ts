import { describe, expect, it } from 'vitest';
import {
  applyHealthChange, countByHealth, formatErrorRate, formatScore, formatSeconds, formatUptime, healthLabel, healthRank,
  healthSymbol, healthTone, scoreTone, windowLabel,
} from './health';
import { alertsInState, compareAlerts, formatMofN, severityTone, sortAlerts, upsertAlert, type AlertLike } from './alerts';
import { addPatch, applyOverlay, integrationPatchFromEvent, type OutboxEvent } from './liveEvents';
import { healthCheckFieldOf, healthCheckFormFrom, parseConditionValue, toHealthCheckInput } from './healthCheckForm';
import { parseRuleForm, ruleFieldOf, ruleFormFrom } from './ruleForm';
import { href, parseRoute } from './router';

describe('health status presentation', () => {
  it('colours and labels every status, unknown values as UNKNOWN', () => {
    expect(healthTone('HEALTHY')).toBe('ok');
    expect(healthTone('DEGRADED')).toBe('warn');
    expect(healthTone('UNHEALTHY')).toBe('bad');
    expect(healthTone('UNKNOWN')).toBe('muted');
    expect(healthTone('SOMETHING_NEW')).toBe('muted');
    expect(healthTone(null)).toBe('muted');
    expect(['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN'].map(healthLabel)).toEqual(['Healthy', 'Degraded', 'Unhealthy', 'Unknown']);
    // A distinct shape per status, so colour is never the only signal.
    expect(new Set(['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN'].map(healthSymbol)).size).toBe(4);
  });
  it('ranks worst first and counts', () => {
    const sorted = ['HEALTHY', 'UNKNOWN', 'UNHEALTHY', 'DEGRADED'].sort((a, b) => healthRank(a) - healthRank(b));
    expect(sorted).toEqual(['UNHEALTHY', 'DEGRADED', 'UNKNOWN', 'HEALTHY']);
    expect(countByHealth([{ health: { status: 'HEALTHY' } }, { health: { status: 'HEALTHY' } }, { health: { status: 'UNHEALTHY' } }]))
      .toEqual({ HEALTHY: 2, DEGRADED: 0, UNHEALTHY: 1, UNKNOWN: 0 });
  });
});

describe('health figures', () => {
  it('formats score, uptime, error rate, windows and seconds', () => {
    expect(formatScore(87.4)).toBe('87 / 100');
    expect(formatScore(null)).toBe('—');
    expect(scoreTone(95)).toBe('ok');
    expect(scoreTone(70)).toBe('warn');
    expect(scoreTone(40)).toBe('bad');
    expect(scoreTone(null)).toBe('muted');
    expect(formatUptime(0.99951)).toBe('99.95 %');
    expect(formatUptime(1)).toBe('100 %');
    expect(formatUptime(null)).toBe('—');
    expect(formatErrorRate(0.5)).toBe('50.00 %');
    expect(formatErrorRate(0)).toBe('0 %');
    expect(windowLabel('HOUR')).toBe('Last hour');
    expect(windowLabel('WEEK')).toBe('Last week');
    expect(formatSeconds(10)).toBe('10 s');
    expect(formatSeconds(300)).toBe('5 min');
    expect(formatSeconds(90)).toBe('1 min 30 s');
    expect(formatSeconds(7200)).toBe('2 h');
    expect(formatSeconds(604_800)).toBe('7 d');
    expect(formatSeconds(null)).toBe('—');
  });
});

describe('live health patching', () => {
  const items = [
    { id: 'a', name: 'A', health: { status: 'HEALTHY', reason: null as string | null, changedAt: null as string | null } },
    { id: 'b', name: 'B', health: { status: 'UNKNOWN', reason: null as string | null, changedAt: null as string | null } },
  ];
  it('updates the changed integration only', () => {
    const r = applyHealthChange(items, { integrationId: 'a', current: 'UNHEALTHY', reason: '503', at: '2025-01-01T00:00:00Z' });
    expect(r.found).toBe(true);
    expect(r.items[0].health).toEqual({ status: 'UNHEALTHY', reason: '503', changedAt: '2025-01-01T00:00:00Z' });
    expect(r.items[1]).toBe(items[1]);
    expect(items[0].health.status).toBe('HEALTHY');
  });
  it('reports an integration it does not know (the caller refetches)', () => {
    const r = applyHealthChange(items, { integrationId: 'zzz', current: 'HEALTHY', at: 'x' });
    expect(r.found).toBe(false);
    expect(r.items).toBe(items);
  });
});

describe('alert ordering', () => {
  const a = (id: string, state: string, severity: string, firedAt: string, resolvedAt?: string): AlertLike => ({ id, state, severity, firedAt, resolvedAt });
  it('puts FIRING first, then ACKNOWLEDGED, then RESOLVED; critical and newest first within', () => {
    const list = [
      a('r1', 'RESOLVED', 'CRITICAL', '2025-01-01T00:00:00Z', '2025-01-01T01:00:00Z'),
      a('k1', 'ACKNOWLEDGED', 'WARNING', '2025-01-01T00:00:00Z'),
      a('f-old-warn', 'FIRING', 'WARNING', '2025-01-01T00:00:00Z'),
      a('f-new-warn', 'FIRING', 'WARNING', '2025-01-02T00:00:00Z'),
      a('f-crit', 'FIRING', 'CRITICAL', '2024-12-01T00:00:00Z'),
      a('r2', 'RESOLVED', 'INFO', '2025-01-01T00:00:00Z', '2025-01-03T00:00:00Z'),
    ];
    expect(sortAlerts(list).map((x) => x.id)).toEqual(['f-crit', 'f-new-warn', 'f-old-warn', 'k1', 'r2', 'r1']);
    expect(compareAlerts(list[0], list[0])).toBe(0);
  });
  it('upserts live events and moves alerts between states', () => {
    let list = [a('1', 'FIRING', 'CRITICAL', '2025-01-01T00:00:00Z'), a('2', 'FIRING', 'WARNING', '2025-01-01T00:00:00Z')];
    list = upsertAlert(list, a('1', 'ACKNOWLEDGED', 'CRITICAL', '2025-01-01T00:00:00Z'));
    expect(list.map((x) => `${x.id}:${x.state}`)).toEqual(['2:FIRING', '1:ACKNOWLEDGED']);
    list = upsertAlert(list, a('3', 'FIRING', 'CRITICAL', '2025-01-05T00:00:00Z'));
    expect(list.map((x) => x.id)).toEqual(['3', '2', '1']);
    expect(alertsInState(list, 'FIRING').map((x) => x.id)).toEqual(['3', '2']);
    expect(alertsInState(list, 'ACKNOWLEDGED').map((x) => x.id)).toEqual(['1']);
    expect(upsertAlert(list, a('4', 'FIRING', 'INFO', '2025-01-01T00:00:00Z'), 2)).toHaveLength(2);
  });
  it('tones and m-of-n', () => {
    expect(severityTone('CRITICAL')).toBe('bad');
    expect(severityTone('WARNING')).toBe('warn');
    expect(severityTone('INFO')).toBe('info');
    expect(formatMofN(2, 3)).toBe('2 of 3');
  });
});

describe('live list patching from events', () => {
  const ev = (type: string, data: unknown): OutboxEvent => ({ id: 'msg_1', type, projectId: 'p', timestamp: 't', payload: { type, data } });
  const rows = [
    { id: 'int_1', name: 'One', enabled: true, status: 'ACTIVE', health: { status: 'HEALTHY', reason: null as string | null } },
    { id: 'int_2', name: 'Two', enabled: true, status: 'ACTIVE', health: { status: 'UNKNOWN', reason: null as string | null } },
  ];
  it('patches enabled/disabled, renames, health changes and removes deleted rows', () => {
    let overlay = {};
    overlay = addPatch(overlay, integrationPatchFromEvent(ev('integration.disabled', { fields: ['enabled'], integration: { id: 'int_1', name: 'One', enabled: false, status: 'ACTIVE', version: 2 } }))!);
    overlay = addPatch(overlay, integrationPatchFromEvent(ev('integration.health_changed', { current: 'UNHEALTHY', previous: 'HEALTHY', reason: '503', integration: { id: 'int_1', name: 'One' } }))!);
    overlay = addPatch(overlay, integrationPatchFromEvent(ev('integration.deleted', { integration: { id: 'int_2' } }))!);
    const out = applyOverlay(rows, overlay);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ id: 'int_1', enabled: false, version: 2, health: { status: 'UNHEALTHY', reason: '503' } });
    expect(rows[0].enabled).toBe(true);
  });
  it('ignores events it cannot use', () => {
    expect(integrationPatchFromEvent(ev('webhook.disabled', { webhook: { id: 'w' } }))).toBeNull();
    expect(integrationPatchFromEvent(ev('integration.updated', null))).toBeNull();
    expect(integrationPatchFromEvent({ id: 'x', type: 'integration.updated', projectId: 'p', timestamp: 't', payload: 'garbage' })).toBeNull();
    expect(applyOverlay(rows, {})).toBe(rows);
  });
  it('a removal sticks even when a later patch arrives', () => {
    let overlay = addPatch({}, { id: 'int_1', removed: true });
    overlay = addPatch(overlay, { id: 'int_1', fields: { name: 'late' } });
    expect(applyOverlay(rows, overlay).map((r) => r.id)).toEqual(['int_2']);
  });
});

describe('health check form', () => {
  it('round-trips a check and leaves empty fields to the server', () => {
    const form = healthCheckFormFrom({
      method: 'GET', path: '/health', expectedStatus: [200], maxLatencyMs: null, intervalSeconds: 10, timeoutMs: 3000,
      failureThreshold: 1, successThreshold: 1, bodyCondition: { pointer: '/status', comparison: 'EQUALS', value: 'ok' },
    });
    expect(form.value).toBe('"ok"');
    expect(toHealthCheckInput(form).value).toEqual({
      method: 'GET', path: '/health', expectedStatus: [200], intervalSeconds: 10, timeoutMs: 3000, failureThreshold: 1,
      successThreshold: 1, bodyCondition: { pointer: '/status', comparison: 'EQUALS', value: 'ok' },
    });
    const empty = toHealthCheckInput(healthCheckFormFrom(null));
    expect(empty.value).toEqual({ method: 'GET', path: '/', expectedStatus: [] });
  });
  it('validates at the fields', () => {
    const bad = toHealthCheckInput({ ...healthCheckFormFrom(null), intervalSeconds: '5', expectedStatus: '20', pointer: 'status', path: 'health' });
    expect(bad.value).toBeUndefined();
    expect(Object.keys(bad.errors).sort()).toEqual(['expectedStatus', 'intervalSeconds', 'path', 'pointer', 'value']);
    expect(toHealthCheckInput({ ...healthCheckFormFrom(null), pointer: '/ok', comparison: 'EXISTS' }).value?.bodyCondition).toEqual({ pointer: '/ok', comparison: 'EXISTS' });
    expect(toHealthCheckInput({ ...healthCheckFormFrom(null), pointer: '/ok' }).errors.value).toBeTruthy();
  });
  it('parses compared values and maps server fields', () => {
    expect(parseConditionValue('true')).toBe(true);
    expect(parseConditionValue('3')).toBe(3);
    expect(parseConditionValue('ok')).toBe('ok');
    expect(healthCheckFieldOf('input.healthCheck.intervalSeconds')).toBe('intervalSeconds');
    expect(healthCheckFieldOf('healthCheck.bodyCondition.pointer')).toBe('pointer');
    expect(healthCheckFieldOf('healthCheck.expectedStatus[0]')).toBe('expectedStatus');
    expect(healthCheckFieldOf('healthCheck')).toBe('healthCheck');
    expect(healthCheckFieldOf('name')).toBeNull();
    expect(healthCheckFieldOf(null)).toBeNull();
  });
});

describe('alert rule form', () => {
  it('builds inputs with defaults left to the server', () => {
    const form = { ...ruleFormFrom(null, 'prj_1'), name: 'down' };
    expect(parseRuleForm(form, false).value).toEqual({ name: 'down', enabled: true });
    const full = { ...form, kind: 'ERROR_RATE' as const, threshold: '5', windowSeconds: '300', breaches: '2', evaluations: '3', severity: 'CRITICAL' as const, reminderSeconds: '600' };
    expect(parseRuleForm(full, false).value).toEqual({ name: 'down', enabled: true, threshold: 5, windowSeconds: 300, breaches: 2, evaluations: 3, severity: 'CRITICAL', reminderSeconds: 600 });
    // Editing: an emptied reminder is cleared.
    expect(parseRuleForm({ ...form }, true).value?.reminderSeconds).toBeNull();
  });
  it('validates at the fields', () => {
    const r = parseRuleForm({ ...ruleFormFrom(null, ''), kind: 'SUCCESS_RATE', threshold: '120', windowSeconds: '5', breaches: '3', evaluations: '2', reminderSeconds: '1' }, false);
    expect(Object.keys(r.errors).sort()).toEqual(['breaches', 'name', 'projectId', 'reminderSeconds', 'threshold', 'windowSeconds']);
    expect(ruleFieldOf('input.windowSeconds')).toBe('windowSeconds');
  });
});

describe('routes of the new views', () => {
  it('parses and builds alert and health routes', () => {
    expect(parseRoute('/alerts')).toEqual({ name: 'alerts', tab: 'firing' });
    expect(parseRoute('/alerts/rules')).toEqual({ name: 'alerts', tab: 'rules' });
    expect(parseRoute('/alerts/bogus').name).toBe('not-found');
    expect(parseRoute('/integrations/int_1/health')).toEqual({ name: 'integration', id: 'int_1', tab: 'health' });
    for (const path of ['/alerts', '/alerts/acknowledged', '/alerts/resolved', '/alerts/rules', '/integrations/int_1/health']) {
      expect(href(parseRoute(path))).toBe(path);
    }
  });
});
