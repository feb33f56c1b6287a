// Outbox events (`events` subscription) turned into list patches, plus hooks that keep
// lists live: patch at once what the event says, then refetch (debounced) for the truth.
import { useEffect, useRef } from 'preact/hooks';
import { ProjectEventsSubscription } from '../api/operations';
import { useSession } from '../context';

export interface OutboxEvent {
  id: string;
  type: string;
  projectId: string;
  timestamp: string;
  payload: unknown;
}

export interface RowPatch {
  id: string;
  /** Fields to overwrite (from the event's `data.integration`). */
  fields?: Record<string, unknown>;
  removed?: boolean;
}

/** Patches of integration rows, by id; `removed` rows disappear until the next refetch. */
export type Overlay = Record<string, RowPatch>;

function obj(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

const PATCHABLE = ['name', 'enabled', 'status', 'category', 'version'];

/** What an `integration.*` event changes in a list row; null when it says nothing usable. */
export function integrationPatchFromEvent(event: OutboxEvent): RowPatch | null {
  if (!event.type.startsWith('integration.')) return null;
  const data = obj(obj(event.payload)?.data);
  const integration = obj(data?.integration);
  const id = typeof integration?.id === 'string' ? integration.id : null;
  if (!id) return null;
  if (event.type === 'integration.deleted') return { id, removed: true };
  const fields: Record<string, unknown> = {};
  for (const key of PATCHABLE) if (key in integration!) fields[key] = integration![key];
  if (event.type === 'integration.health_changed' && typeof data?.current === 'string') {
    fields.health = { status: data.current, reason: typeof data.reason === 'string' ? data.reason : null };
  }
  return { id, fields };
}

/** Adds a patch to an overlay (later fields win; a removal sticks). */
export function addPatch(overlay: Overlay, patch: RowPatch): Overlay {
  const prev = overlay[patch.id];
  return {
    ...overlay,
    [patch.id]: {
      id: patch.id,
      removed: Boolean(prev?.removed || patch.removed),
      fields: { ...(prev?.fields ?? {}), ...(patch.fields ?? {}) },
    },
  };
}

/** Rows with the overlay applied: removed rows dropped, patched fields merged (nested `health` merged too). */
export function applyOverlay<T extends { id: string }>(rows: T[], overlay: Overlay): T[] {
  if (!Object.keys(overlay).length) return rows;
  const out: T[] = [];
  for (const row of rows) {
    const p = overlay[row.id];
    if (!p) {
      out.push(row);
      continue;
    }
    if (p.removed) continue;
    const fields = { ...(p.fields ?? {}) };
    const merged = { ...row, ...fields } as Record<string, unknown>;
    const rowHealth = obj((row as Record<string, unknown>).health);
    if (fields.health && rowHealth) merged.health = { ...rowHealth, ...(fields.health as object) };
    out.push(merged as T);
  }
  return out;
}

/**
 * Subscribes to the outbox events of the selected project (or of every project, up to 25,
 * under "All projects") and calls `onEvent` for each.
 */
export function useProjectEvents(types: string[], onEvent: (event: OutboxEvent) => void): void {
  const { client, projectId, projects, viewer } = useSession();
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const ids = projectId ? [projectId] : viewer.project ? [viewer.project.id] : projects.slice(0, 25).map((p) => p.id);
  const key = ids.join(',') + '|' + types.join(',');
  useEffect(() => {
    const subs = ids.map((id) =>
      client.subscription(ProjectEventsSubscription, { projectId: id, types }).subscribe((result) => {
        const event = result.data?.events;
        if (event) handler.current(event);
      }),
    );
    return () => subs.forEach((s) => s.unsubscribe());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key]);
}

/** A debounced caller: many events in a burst cause one refetch. */
export function useDebounced(fn: () => void, ms = 400): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => () => { if (timer.current) clearTimeout(timer.current); }, []);
  const ref = useRef(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => latest.current(), ms);
  });
  return ref.current;
}
