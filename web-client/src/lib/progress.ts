// Progress of long work, computed from what the API reports (nothing is estimated unless
// it says so): sync runs (syncProgress), batch execution (executions as they finish), webhook
// replays (the replayed deliveries' states).

export interface Progress {
  /** null: indeterminate (the total is not known). */
  value: number | null;
  max: number;
  done: boolean;
  label: string;
}

export interface RunLike {
  id: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  pages: number;
  fetched: number;
  created: number;
  updated: number;
  deleted: number;
  errors: number;
  startedAt: string;
  finishedAt?: string | null;
}

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

/**
 * A sync run's progress. A sync reports no total while it runs (pages come until the last
 * one), so a running run is determinate only against the previous complete run's record
 * count, and says so; a first run is indeterminate. A finished run is full.
 */
export function syncRunProgress(run: RunLike, previous?: RunLike | null): Progress {
  const counts = `${plural(run.pages, 'page')}, ${plural(run.fetched, 'record')}`;
  if (run.status !== 'RUNNING') {
    const verb = run.status === 'SUCCEEDED' ? 'Done' : run.status === 'FAILED' ? 'Failed' : 'Cancelled';
    return { value: 1, max: 1, done: true, label: `${verb}: ${counts}` };
  }
  const basis = previous && previous.status === 'SUCCEEDED' && previous.id !== run.id && previous.fetched > 0 ? previous.fetched : null;
  if (basis === null) return { value: null, max: 1, done: false, label: `Running: ${counts} so far` };
  // Never show a running run as complete: it ends with its last (possibly empty) page.
  const value = Math.min(run.fetched, Math.max(basis - 1, 0));
  return {
    value,
    max: basis,
    done: false,
    label: `Running: ${counts} so far (the last complete run read ${plural(basis, 'record')})`,
  };
}

/** Newest first, like `Sync.runs`; a run streamed by `syncProgress` replaces its older self. */
export function upsertRun<T extends { id: string; startedAt: string }>(runs: T[], run: T, keep = 20): T[] {
  const others = runs.filter((r) => r.id !== run.id);
  return [run, ...others].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0)).slice(0, keep);
}

/**
 * A batch's progress while its mutation runs: calls through the integration that finished
 * since the batch started (from the `executions` subscription), capped below the total until
 * the answer arrives with every result.
 */
export function batchProgress(total: number, finishedSeen: number, answered: { succeeded: number; failed: number } | null): Progress {
  if (answered) {
    return {
      value: total,
      max: Math.max(total, 1),
      done: true,
      label: `Done: ${answered.succeeded} succeeded, ${answered.failed} failed of ${plural(total, 'call')}`,
    };
  }
  const value = Math.min(finishedSeen, Math.max(total - 1, 0));
  return { value, max: Math.max(total, 1), done: false, label: `Running: ${value} of ${plural(total, 'call')} finished` };
}

export interface DeliveryLike {
  id: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  event?: { createdAt: string } | null;
}

/**
 * The deliveries a replay created: those after `watermark` (the newest delivery id before
 * the replay; ids sort by creation) whose event lies in the replayed range, the first
 * `count` of them (ids in creation order).
 */
export function replayedDeliveries<T extends DeliveryLike>(all: T[], watermark: string | null, since: string, until: string, count: number): T[] {
  const from = Date.parse(since);
  const to = Date.parse(until);
  return all
    .filter((d) => watermark === null || d.id > watermark)
    .filter((d) => {
      const at = d.event ? Date.parse(d.event.createdAt) : NaN;
      return !Number.isNaN(at) && at >= from && at <= to;
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, count);
}

export function replayProgress(count: number, deliveries: DeliveryLike[]): Progress & { succeeded: number; failed: number; pending: number } {
  const succeeded = deliveries.filter((d) => d.status === 'SUCCEEDED').length;
  const failed = deliveries.filter((d) => d.status === 'FAILED').length;
  // Deliveries not read back yet count as pending.
  const pending = count - succeeded - failed;
  const done = pending <= 0;
  return {
    value: succeeded + failed,
    max: Math.max(count, 1),
    done,
    succeeded,
    failed,
    pending: Math.max(pending, 0),
    label: count === 0
      ? 'Nothing to replay in this range'
      : `${done ? 'Done' : 'Replaying'}: ${succeeded} delivered, ${failed} failed, ${Math.max(pending, 0)} pending of ${plural(count, 'delivery', 'deliveries')}`,
  };
}
