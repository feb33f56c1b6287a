import { describe, expect, it } from 'vitest';
import { batchProgress, replayProgress, replayedDeliveries, syncRunProgress, upsertRun, type RunLike } from './progress';

const run = (over: Partial<RunLike>): RunLike => ({
  id: 'srn_2', status: 'RUNNING', pages: 0, fetched: 0, created: 0, updated: 0, deleted: 0, errors: 0, startedAt: '2026-01-01T10:00:00Z', ...over,
});

describe('syncRunProgress', () => {
  it('is indeterminate for a first run (a sync reports no total)', () => {
    const p = syncRunProgress(run({ pages: 2, fetched: 10 }));
    expect(p).toMatchObject({ value: null, done: false, label: 'Running: 2 pages, 10 records so far' });
  });

  it('measures against the last complete run, never full before the end', () => {
    const previous = run({ id: 'srn_1', status: 'SUCCEEDED', fetched: 20 });
    expect(syncRunProgress(run({ pages: 1, fetched: 5 }), previous)).toMatchObject({ value: 5, max: 20, done: false });
    expect(syncRunProgress(run({ pages: 1, fetched: 5 }), previous).label).toContain('the last complete run read 20 records');
    // More records than last time: held just below full until the run ends.
    expect(syncRunProgress(run({ pages: 5, fetched: 25 }), previous)).toMatchObject({ value: 19, max: 20 });
    // A failed or empty previous run is no basis.
    expect(syncRunProgress(run({ fetched: 5 }), { ...previous, status: 'FAILED' }).value).toBeNull();
    expect(syncRunProgress(run({ fetched: 5 }), { ...previous, fetched: 0 }).value).toBeNull();
  });

  it('is full and says how it ended once finished', () => {
    expect(syncRunProgress(run({ status: 'SUCCEEDED', pages: 5, fetched: 23 }))).toEqual({ value: 1, max: 1, done: true, label: 'Done: 5 pages, 23 records' });
    expect(syncRunProgress(run({ status: 'FAILED', pages: 1, fetched: 1 })).label).toBe('Failed: 1 page, 1 record');
    expect(syncRunProgress(run({ status: 'CANCELLED' })).label).toBe('Cancelled: 0 pages, 0 records');
  });

  it('upserts streamed runs newest first', () => {
    const a = run({ id: 'a', startedAt: '2026-01-01T09:00:00Z', status: 'SUCCEEDED' });
    const b = run({ id: 'b', startedAt: '2026-01-01T10:00:00Z' });
    const list = upsertRun(upsertRun([a], b), { ...b, pages: 3 });
    expect(list.map((r) => [r.id, r.pages])).toEqual([['b', 3], ['a', 0]]);
  });
});

describe('batchProgress', () => {
  it('counts finished calls while the batch runs, capped below the total', () => {
    expect(batchProgress(3, 1, null)).toMatchObject({ value: 1, max: 3, done: false, label: 'Running: 1 of 3 calls finished' });
    expect(batchProgress(3, 7, null).value).toBe(2);
    expect(batchProgress(3, 1, { succeeded: 2, failed: 1 })).toMatchObject({ value: 3, done: true, label: 'Done: 2 succeeded, 1 failed of 3 calls' });
  });
});

describe('replay progress', () => {
  const d = (id: string, status: 'PENDING' | 'SUCCEEDED' | 'FAILED', at: string) => ({ id, status, event: { createdAt: at } });
  const all = [
    d('dlv_01', 'SUCCEEDED', '2026-01-01T09:10:00Z'), // before the replay
    d('dlv_05', 'SUCCEEDED', '2026-01-01T09:10:00Z'), // replayed
    d('dlv_06', 'PENDING', '2026-01-01T09:20:00Z'), // replayed
    d('dlv_07', 'PENDING', '2026-01-01T10:30:00Z'), // a new event, not replayed
    d('dlv_08', 'FAILED', '2026-01-01T09:30:00Z'), // replayed
  ];

  it('finds the replayed deliveries: after the mark, events in the range, the first `count`', () => {
    const found = replayedDeliveries(all, 'dlv_01', '2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z', 3);
    expect(found.map((x) => x.id)).toEqual(['dlv_05', 'dlv_06', 'dlv_08']);
    expect(replayedDeliveries(all, 'dlv_01', '2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z', 2).map((x) => x.id)).toEqual(['dlv_05', 'dlv_06']);
    expect(replayedDeliveries(all, null, '2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z', 9).map((x) => x.id)).toEqual(['dlv_01', 'dlv_05', 'dlv_06', 'dlv_08']);
  });

  it('reports delivered, failed and pending of the count', () => {
    const found = replayedDeliveries(all, 'dlv_01', '2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z', 3);
    expect(replayProgress(3, found)).toMatchObject({ value: 2, max: 3, done: false, succeeded: 1, failed: 1, pending: 1 });
    // Not read back yet: still pending.
    expect(replayProgress(4, found).pending).toBe(2);
    expect(replayProgress(2, [d('a', 'SUCCEEDED', ''), d('b', 'SUCCEEDED', '')])).toMatchObject({ done: true, label: 'Done: 2 delivered, 0 failed, 0 pending of 2 deliveries' });
    expect(replayProgress(0, []).label).toBe('Nothing to replay in this range');
  });
});
