// Sync tab: an integration's sync definitions (create, start/stop the schedule, run now,
// delete), their runs with a progress bar fed live by `syncProgress`, and the records they
// keep (Integration.records, paginated).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import {
  CreateSyncMutation, DeleteSyncMutation, IntegrationSyncsQuery, RunSyncMutation, StartSyncMutation, StopSyncMutation,
  SyncProgressSubscription, SyncRecordsQuery,
} from '../api/operations';
import type { IntegrationSyncsQuery as SyncsData, SyncRunFieldsFragment } from '../gql/graphql';
import { useSession } from '../context';
import { Badge, ConfirmDialog, Empty, ErrorBox, Field, Loading, Pager, ProgressBar } from '../components/ui';
import { formatDateTime, formatMs, formatRelative, formatSeconds, humanizeEnum, prettyJson } from '../lib/format';
import { parseJsonObject, parseOptionalInt } from '../lib/forms';
import { problemsOf, problemsUnder } from '../lib/schemaForm';
import { syncRunProgress, upsertRun } from '../lib/progress';
import { href } from '../lib/router';

type Data = NonNullable<SyncsData['integration']>;
type Sync = Data['syncs'][number];
type Run = SyncRunFieldsFragment;

const RUN_TONE: Record<string, string> = { RUNNING: 'info', SUCCEEDED: 'ok', FAILED: 'bad', CANCELLED: 'muted' };

export function SyncTab({ id }: { id: string }) {
  const { client, canEdit } = useSession();
  const [result, refetch] = useQuery({ query: IntegrationSyncsQuery, variables: { id } });
  const data = result.data?.integration;
  // Runs streamed by syncProgress, by sync id, over the stored ones.
  const [live, setLive] = useState<Record<string, Run[]>>({});
  useEffect(() => setLive({}), [result.data]);
  const projectId = data?.project.id;
  useEffect(() => {
    if (!projectId) return;
    const { unsubscribe } = client.subscription(SyncProgressSubscription, { projectId }).subscribe((r) => {
      const run = r.data?.syncProgress;
      if (!run) return;
      setLive((all) => ({ ...all, [run.syncId]: upsertRun(all[run.syncId] ?? [], run) }));
    });
    return unsubscribe;
  }, [client, projectId]);
  const reload = () => refetch({ requestPolicy: 'network-only' });
  if (result.error && !data) return <ErrorBox error={result.error} />;
  if (!data) return <Loading />;
  if (!data.template) {
    return (
      <section class="panel">
        <h2>Sync</h2>
        <p>A sync reads records page by page through an operation of the integration's template. This integration was configured by hand, so it has none.</p>
        <p><a href={href({ name: 'integration-new' })}>Make an integration from a template</a> to sync its records.</p>
      </section>
    );
  }
  return (
    <>
      {data.syncs.length ? data.syncs.map((s) => (
        <SyncPanel key={s.id} sync={s} runs={mergeRuns(s.runs, live[s.id] ?? [])} onChanged={reload}
          onRun={(run) => setLive((all) => ({ ...all, [run.syncId]: upsertRun(all[run.syncId] ?? [], run) }))} />
      )) : <Empty>No sync yet.{canEdit ? ' Define one below.' : ''}</Empty>}
      {canEdit ? <CreateSyncForm integration={data} onCreated={reload} /> : null}
      {data.syncs.length ? <RecordsBrowser id={id} syncs={data.syncs} /> : null}
    </>
  );
}

function mergeRuns(stored: Run[], live: Run[]): Run[] {
  let out = stored;
  for (const run of [...live].reverse()) {
    const old = out.find((r) => r.id === run.id);
    // A late event never moves a run backwards.
    if (!old || old.updatedAt <= run.updatedAt) out = upsertRun(out, run);
  }
  return out;
}

function duration(run: Run): string {
  const end = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
  return formatMs(end - Date.parse(run.startedAt));
}

function SyncPanel({ sync, runs, onChanged, onRun }: { sync: Sync; runs: Run[]; onChanged(): void; onRun(run: Run): void }) {
  const { canEdit } = useSession();
  const [runState, runNow] = useMutation(RunSyncMutation);
  const [startState, start] = useMutation(StartSyncMutation);
  const [stopState, stop] = useMutation(StopSyncMutation);
  const [deleteState, remove] = useMutation(DeleteSyncMutation);
  const [confirm, setConfirm] = useState(false);
  const latest = runs[0];
  const previous = runs.find((r) => r !== latest && r.status === 'SUCCEEDED') ?? null;
  const progress = latest ? syncRunProgress(latest, previous) : null;
  const running = latest?.status === 'RUNNING';
  return (
    <section class="panel spaced" aria-labelledby={`sync-${sync.id}`} data-testid="sync" data-sync={sync.name}>
      <div class="panel-head">
        <h2 id={`sync-${sync.id}`}>{sync.name}</h2>
        <div class="row">
          <Badge value={sync.enabled ? 'ACTIVE' : 'INACTIVE'} tone={sync.enabled ? 'ok' : 'muted'} label={sync.enabled ? 'Scheduled' : 'Not scheduled'} />
          {canEdit ? (
            <>
              <button type="button" class="primary" disabled={runState.fetching || running} onClick={async () => { const r = await runNow({ id: sync.id }); if (r.data) onRun(r.data.runSync); }}>
                {running ? 'Running…' : 'Run now'}
              </button>
              {sync.enabled ? (
                <button type="button" disabled={stopState.fetching} onClick={async () => { const r = await stop({ id: sync.id }); if (r.data) onChanged(); }}>Stop schedule</button>
              ) : (
                <button type="button" disabled={startState.fetching} onClick={async () => { const r = await start({ id: sync.id }); if (r.data) onChanged(); }}>Start schedule</button>
              )}
              <button type="button" class="danger" onClick={() => setConfirm(true)}>Delete…</button>
            </>
          ) : null}
        </div>
      </div>
      <ErrorBox error={runState.error} />
      <ErrorBox error={startState.error} />
      <ErrorBox error={stopState.error} />
      <ConfirmDialog open={confirm} title={`Delete the sync ${sync.name}?`} confirmLabel="Delete sync" danger busy={deleteState.fetching}
        onCancel={() => setConfirm(false)}
        onConfirm={async () => { const r = await remove({ id: sync.id }); if (r.data) { setConfirm(false); onChanged(); } }}>
        <p>Its runs and the records it keeps are deleted too.</p>
        <ErrorBox error={deleteState.error} />
      </ConfirmDialog>
      <dl class="props">
        <dt>Operation</dt><dd><code>{sync.operation}</code>{sync.params && Object.keys(sync.params as object).length ? <> with <code>{JSON.stringify(sync.params)}</code></> : null}</dd>
        <dt>Pages</dt><dd>{sync.pagination ? `${humanizeEnum(sync.pagination.style)} pagination` : 'one page'}{sync.pageSize ? `, ${sync.pageSize} records each` : ''}; records at <code>{sync.recordsPointer || '(the body)'}</code>, id at <code>{sync.recordIdPointer}</code></dd>
        <dt>Schedule</dt><dd>every {formatSeconds(sync.intervalSeconds)}{sync.enabled && sync.nextRunAt ? `; next run ${formatRelative(sync.nextRunAt)}` : sync.enabled ? '' : ' (stopped)'}</dd>
      </dl>
      {latest && progress ? (
        <div aria-live="polite">
          <ProgressBar id={`sync-progress-${sync.id}`} testId="sync-progress" value={progress.value} max={progress.max}
            label={<><Badge value={latest.status} tone={RUN_TONE[latest.status]} /> {progress.label}</>} />
          {latest.lastError ? <p class="bad-text small">{latest.lastError}</p> : null}
        </div>
      ) : <p class="muted">Never run.</p>}
      {runs.length ? (
        <details open={runs.length <= 5}>
          <summary>Run history ({runs.length})</summary>
          <table class="table compact" data-testid="sync-runs">
            <thead><tr><th>Status</th><th>Trigger</th><th>Started</th><th>Took</th><th>Pages</th><th>Read</th><th>New</th><th>Changed</th><th>Deleted</th><th>Errors</th></tr></thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td><Badge value={r.status} tone={RUN_TONE[r.status]} />{r.cancelRequested && r.status === 'RUNNING' ? ' stopping' : ''}</td>
                  <td>{humanizeEnum(r.trigger)}</td>
                  <td title={r.startedAt}>{formatDateTime(r.startedAt)}</td>
                  <td>{duration(r)}</td>
                  <td>{r.pages}</td><td>{r.fetched}</td><td>{r.created}</td><td>{r.updated}</td><td>{r.deleted}</td>
                  <td class={r.errors ? 'bad-text' : ''}>{r.errors}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </section>
  );
}

function CreateSyncForm({ integration, onCreated }: { integration: Data; onCreated(): void }) {
  const ops = integration.template?.operations ?? [];
  const paged = ops.filter((o) => o.pagination);
  const [open, setOpen] = useState(integration.syncs.length === 0);
  const [form, setForm] = useState({
    name: '', operation: (paged[0] ?? ops.find((o) => o.method === 'GET') ?? ops[0])?.name ?? '', params: '', interval: '3600',
    pageSize: '', recordsPointer: '', recordIdPointer: '', enabled: false,
  });
  const [local, setLocal] = useState<Record<string, string>>({});
  const [state, create] = useMutation(CreateSyncMutation);
  const server = useMemo(() => problemsUnder(problemsOf(state.error), 'input'), [state.error]);
  const set = (k: keyof typeof form, v: string | boolean) => setForm((f) => ({ ...f, [k]: v }));
  const err = (k: string) => local[k] ?? (server[k]?.join(' · ') || null);
  if (!open) return <p><button type="button" onClick={() => setOpen(true)}>New sync…</button></p>;
  const submit = async (e: Event) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!form.name.trim()) errors.name = 'A name is required';
    const params = parseJsonObject(form.params, 'Parameters');
    if (params.error) errors.params = params.error;
    const interval = parseOptionalInt(form.interval, 10, 604_800, 'The interval');
    if (interval.error) errors.intervalSeconds = interval.error;
    const pageSize = parseOptionalInt(form.pageSize, 1, 10_000, 'The page size');
    if (pageSize.error) errors.pageSize = pageSize.error;
    setLocal(errors);
    if (Object.keys(errors).length) return;
    const r = await create({
      input: {
        integrationId: integration.id,
        name: form.name.trim(),
        operation: form.operation,
        params: params.value ?? null,
        intervalSeconds: interval.value ?? null,
        pageSize: pageSize.value ?? null,
        recordsPointer: form.recordsPointer.trim() || null,
        recordIdPointer: form.recordIdPointer.trim() || null,
        enabled: form.enabled,
      },
    });
    if (r.data) {
      setForm((f) => ({ ...f, name: '' }));
      setOpen(false);
      onCreated();
    }
  };
  return (
    <form class="form panel spaced" onSubmit={submit} noValidate aria-labelledby="new-sync-title">
      <h2 id="new-sync-title">New sync</h2>
      <p class="muted">Reads every page of a template operation and keeps its records (new, changed and deleted ones counted on each run).</p>
      {state.error && !Object.keys(server).length ? <ErrorBox error={state.error} /> : null}
      <div class="form-grid">
        <Field id="sy-name" label="Sync name" error={err('name')}>
          <input id="sy-name" value={form.name} onInput={(e) => set('name', e.currentTarget.value)} maxLength={100} />
        </Field>
        <Field id="sy-operation" label="Operation" hint="Paginated operations read every page." error={err('operation')}>
          <select id="sy-operation" value={form.operation} onChange={(e) => set('operation', e.currentTarget.value)}>
            {ops.map((o) => <option key={o.name} value={o.name}>{o.name} ({o.method} {o.path}){o.pagination ? ` · ${humanizeEnum(o.pagination.style)} pages` : ''}</option>)}
          </select>
        </Field>
        <Field id="sy-interval" label="Interval (s)" hint="10-604800; default 3600." error={err('intervalSeconds')}>
          <input id="sy-interval" inputMode="numeric" value={form.interval} onInput={(e) => set('interval', e.currentTarget.value)} />
        </Field>
        <Field id="sy-pagesize" label="Page size" hint="Records per page asked for (empty: the upstream's default)." error={err('pageSize')}>
          <input id="sy-pagesize" inputMode="numeric" value={form.pageSize} onInput={(e) => set('pageSize', e.currentTarget.value)} />
        </Field>
        <Field id="sy-records" label="Records pointer" hint="JSON pointer to the records array (default: the pagination's)." error={err('recordsPointer')}>
          <input id="sy-records" class="mono" value={form.recordsPointer} onInput={(e) => set('recordsPointer', e.currentTarget.value)} placeholder="/items" />
        </Field>
        <Field id="sy-recordid" label="Record ID pointer" hint="Within a record (default /id)." error={err('recordIdPointer')}>
          <input id="sy-recordid" class="mono" value={form.recordIdPointer} onInput={(e) => set('recordIdPointer', e.currentTarget.value)} placeholder="/id" />
        </Field>
      </div>
      <Field id="sy-params" label="Parameters (JSON object)" error={err('params')}>
        <textarea id="sy-params" class="mono" rows={2} value={form.params} onInput={(e) => set('params', e.currentTarget.value)} />
      </Field>
      <div class="checkbox-field">
        <input id="sy-enabled" type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />
        <label for="sy-enabled">Start the schedule at once (otherwise: Run now or Start schedule)</label>
      </div>
      <button type="submit" class="primary" disabled={state.fetching}>Create sync</button>
    </form>
  );
}

const RECORDS_PAGE = 25;

function RecordsBrowser({ id, syncs }: { id: string; syncs: Sync[] }) {
  const [syncId, setSyncId] = useState('');
  const [includeDeleted, setIncludeDeleted] = useState(false);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  useEffect(() => setCursors([null]), [syncId, includeDeleted]);
  const [result, refetch] = useQuery({
    query: SyncRecordsQuery,
    variables: { id, syncId: syncId || null, first: RECORDS_PAGE, after: cursors[cursors.length - 1], includeDeleted },
  });
  const conn = result.data?.integration?.records;
  return (
    <section class="panel spaced" aria-labelledby="records-title">
      <div class="panel-head">
        <h2 id="records-title">Records</h2>
        <div class="row">
          <label for="rec-sync">Sync</label>
          <select id="rec-sync" value={syncId} onChange={(e) => setSyncId(e.currentTarget.value)}>
            <option value="">Every sync</option>
            {syncs.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
          <span class="checkbox-field">
            <input id="rec-deleted" type="checkbox" checked={includeDeleted} onChange={(e) => setIncludeDeleted(e.currentTarget.checked)} />
            <label for="rec-deleted">Include deleted</label>
          </span>
          <button type="button" onClick={() => refetch({ requestPolicy: 'network-only' })}>Refresh</button>
        </div>
      </div>
      <ErrorBox error={result.error} />
      {!conn ? <Loading /> : !conn.nodes.length ? <Empty>No records yet: run a sync.</Empty> : (
        <table class="table compact" data-testid="records">
          <thead><tr><th>Record ID</th><th>Data</th><th>First seen</th><th>Changed</th><th>State</th></tr></thead>
          <tbody>
            {conn.nodes.map((r) => (
              <tr key={r.id}>
                <td><code>{r.recordId}</code></td>
                <td class="record-data"><details><summary><code>{JSON.stringify(r.data).slice(0, 90)}</code></summary><pre class="code">{prettyJson(r.data)}</pre></details></td>
                <td>{formatDateTime(r.firstSeen)}</td>
                <td>{formatRelative(r.changedAt)}</td>
                <td>{r.deletedAt ? <Badge value="DELETED" tone="bad" label={`Deleted ${formatRelative(r.deletedAt)}`} /> : <Badge value="ACTIVE" label="Present" />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {conn ? (
        <Pager label="Records" page={cursors.length} total={conn.totalCount} hasPrevious={cursors.length > 1} hasNext={conn.pageInfo.hasNextPage}
          onPrevious={() => setCursors((c) => c.slice(0, -1))} onNext={() => setCursors((c) => [...c, conn.pageInfo.endCursor ?? null])} />
      ) : null}
    </section>
  );
}
