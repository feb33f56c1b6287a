import { describe, expect, it } from 'vitest';
import { formatBytes, formatMs, formatNumber, formatPercent, formatRelative, formatTime, formatSeconds, humanizeEnum, prettyJson, statusTone } from './format';

describe('format', () => {
  it('numbers and percentages (null means no data)', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(null)).toBe('—');
    expect(formatPercent(0.975)).toBe('97.5 %');
    expect(formatPercent(1)).toBe('100 %');
    expect(formatPercent(0)).toBe('0 %');
    expect(formatPercent(null)).toBe('—');
  });
  it('durations', () => {
    expect(formatMs(0.5)).toBe('0.50 ms');
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(1500)).toBe('1.50 s');
    expect(formatMs(30_000)).toBe('30.0 s');
    expect(formatMs(125_000)).toBe('2 min 5 s');
    expect(formatMs(undefined)).toBe('—');
  });
  it('sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MiB');
  });
  it('relative times', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    expect(formatRelative('2025-01-01T11:59:58Z', now)).toBe('just now');
    expect(formatRelative('2025-01-01T11:59:30Z', now)).toBe('30 s ago');
    expect(formatRelative('2025-01-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2025-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatRelative('2024-12-29T12:00:00Z', now)).toBe('3 d ago');
    expect(formatRelative('2025-01-01T12:10:00Z', now)).toBe('in 10 min');
    expect(formatRelative(null, now)).toBe('—');
    expect(formatRelative('garbage', now)).toBe('garbage');
  });
  it('times, enums, JSON and status tones', () => {
    expect(formatTime('2025-01-01T12:00:00.123Z')).toMatch(/^\d\d:\d\d:\d\d\.123$/);
    expect(humanizeEnum('PROJECT_MANAGEMENT')).toBe('Project management');
    expect(humanizeEnum(null)).toBe('—');
    expect(prettyJson({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(statusTone(204)).toBe('ok');
    expect(statusTone(404)).toBe('warn');
    expect(statusTone(503)).toBe('bad');
    expect(statusTone(null)).toBe('bad');
  });
});

describe('formatSeconds', () => {
  it('shows the two largest units', () => {
    expect(formatSeconds(3600)).toBe('1 h');
    expect(formatSeconds(90)).toBe('1 min 30 s');
    expect(formatSeconds(90061)).toBe('1 d 1 h');
    expect(formatSeconds(0)).toBe('0 s');
    expect(formatSeconds(null)).toBe('—');
  });
});
