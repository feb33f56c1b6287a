// One webhook endpoint: stats, deliveries with attempts, live attempts, and its controls.
import { useMemo, useRef, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import {
  DeleteWebhookMutation, DeliveriesSubscription, RedeliverMutation, ReplayWebhookMutation,
  RotateWebhookSecretMutation, SendTestEventMutation, UpdateWebhookMutation, WebhookQuery,
} from '../api/operations';
import type { DeliveryStatus, LiveDeliveriesSubscription, TimeWindow, WebhookQuery as WebhookData } from '../gql/graphql';
import { useSession } from '../context';
import { Badge, Card, ConfirmDialog, ErrorBox, Field, Loading, Pager, SecretOnce } from '../components/ui';
import { TimeChart } from '../components/Chart';
import { useLiveList } from '../lib/live';
import { currentAfter, firstPage, nextPage, pageNumber, previousPage } from '../lib/filters';
import { isoToLocalInput, localInputToIso } from '../lib/forms';
import { formatDateTime, formatMs, formatPercent, formatRelative, formatTime, humanizeEnum, statusTone } from '../lib/format';
import { href, navigate } from '../lib/router';
import { EventTypePicker } from './WebhookCreate';
import { ReplayProgress, replayMark, type ReplayMark } from './ReplayProgress';

type Webhook = NonNullable<WebhookData['webhook']>;
type Attempt = LiveDeliveriesSubscription['deliveries'];
const WINDOWS: TimeWindow[] = ['LAST_HOUR', 'LAST_DAY', 'LAST_WEEK', 'LAST_MONTH'];

export function WebhookDetail({ id }: { id: string }) {
  const { client, canEdit } = useSession();
  const [window, setWindow] = useState<TimeWindow>('LAST_DAY');
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [cursor, setCursor] = useState(firstPage);
  const [result, refetch] = useQuery({
    query: WebhookQuery,
    variables: { id, window, status: status || null, first: 20, after: currentAfter(cursor) },
  });
  const reload = () => refetch({ requestPolicy: 'network-only' });
  // Each live attempt refreshes the deliveries (at most every 2 s).
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const onAttempt = () => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      reload();
    }, 1000);
  };
  const vars = useMemo(() => ({ webhookId: id }), [id]);
  const live = useLiveList(client, DeliveriesSubscription, vars, (d) => d.deliveries as Attempt, { max: 100, onItem: onAttempt });
  const w = result.data?.webhook;
  if (result.error && !w) return <><p class="crumbs"><a href={href({ name: 'webhooks' })}>Webhooks</a> /</p><ErrorBox error={result.error} /></>;
  if (!w) return result.fetching ? <Loading /> : <p>Not found. <a href={href({ name: 'webhooks' })}>Back to webhooks</a></p>;
  const conn = w.deliveries;
  return (
    <>
      <div class="page-head">
        <p class="crumbs"><a href={href({ name: 'webhooks' })}>Webhooks</a> / {w.project?.name ?? ''}</p>
        <div class="row space">
          <h1 class="truncate"><code>{w.url}</code></h1>
          <Badge value={w.status} />
        </div>
        {w.description ? <p class="muted">{w.description}</p> : null}
        {w.disabledReason ? <p class="bad-text">Disabled: {w.disabledReason}</p> : null}
      </div>
      {canEdit ? <WebhookActions webhook={w} reload={reload} /> : null}
      <section aria-labelledby="wstats-title">
        <div class="row space">
          <h2 id="wstats-title">Delivery statistics</h2>
          <div class="row">
            <label for="wstats-window">Window</label>
            <select id="wstats-window" value={window} onChange={(e) => setWindow(e.currentTarget.value as TimeWindow)}>
              {WINDOWS.map((x) => <option key={x} value={x}>{humanizeEnum(x)}</option>)}
            </select>
          </div>
        </div>
        <div class="cards">
          <Card label="Attempts" value={w.stats.attempts} hint={`${w.stats.successfulAttempts} succeeded`} />
          <Card label="Success rate" value={formatPercent(w.stats.successRate)} tone={w.stats.successRate !== null && w.stats.successRate !== undefined && w.stats.successRate < 0.95 ? 'warn' : undefined} />
          <Card label="p95 latency" value={formatMs(w.stats.p95LatencyMs)} />
          <Card label="Failures in a row" value={w.failureCount} tone={w.failureCount ? 'bad' : undefined} hint={w.failingSince ? `since ${formatDateTime(w.failingSince)}` : undefined} />
          <Card label="Last attempt" value={formatRelative(w.stats.lastAttemptAt)} hint={formatDateTime(w.stats.lastAttemptAt)} />
        </div>
      </section>
      <div class="grid-2">
        <section class="panel" aria-labelledby="live-attempts-title">
          <header class="panel-head">
            <h2 id="live-attempts-title">Live delivery attempts</h2>
            <button type="button" aria-pressed={live.paused} onClick={() => live.setPaused(!live.paused)}>
              {live.paused ? `Resume${live.pending ? ` (${live.pending} new)` : ''}` : 'Pause'}
            </button>
          </header>
          <ErrorBox view={live.error} />
          <AttemptsChart attempts={live.items.length ? live.items : w.deliveries.nodes.flatMap((d) => d.attempts)} />
          <div class="scroll" role="log" aria-label="Live delivery attempts" tabIndex={0}>
            {live.items.length ? <AttemptList attempts={live.items} /> : <p class="muted">Waiting for delivery attempts…</p>}
          </div>
        </section>
        <section class="panel" aria-labelledby="wsettings-title">
          <h2 id="wsettings-title">Endpoint</h2>
          <dl class="props">
            <dt>ID</dt><dd><code>{w.id}</code></dd>
            <dt>Events</dt><dd>{w.eventTypes.map((t) => <span class="tag" key={t}>{t}</span>)}</dd>
            <dt>Filter</dt><dd>{w.filter.integrationIds.length || w.filter.categories.length ? [...w.filter.integrationIds, ...w.filter.categories.map(humanizeEnum)].join(', ') : 'all integrations'}</dd>
            <dt>Rate limit</dt><dd>{w.rateLimitPerSecond ? `${w.rateLimitPerSecond}/s` : 'unlimited'}</dd>
            <dt>Secret</dt><dd>{w.previousSecretExpiresAt ? `rotated; the previous one signs until ${formatDateTime(w.previousSecretExpiresAt)}` : 'set (shown only at creation and rotation)'}</dd>
            <dt>Created</dt><dd>{formatDateTime(w.createdAt)} by {w.createdBy}</dd>
            <dt>Last delivery</dt><dd>{formatDateTime(w.lastDeliveryAt)}</dd>
          </dl>
        </section>
      </div>
      <section aria-labelledby="deliveries-title">
        <div class="row space">
          <h2 id="deliveries-title">Deliveries <span class="muted">({conn.totalCount}, oldest first)</span></h2>
          <div class="row">
            <label for="d-status">Status</label>
            <select id="d-status" value={status} onChange={(e) => { setStatus(e.currentTarget.value as DeliveryStatus | ''); setCursor(firstPage()); }}>
              <option value="">Any</option>
              <option value="PENDING">Pending</option>
              <option value="SUCCEEDED">Succeeded</option>
              <option value="FAILED">Failed</option>
            </select>
            <button type="button" onClick={reload}>Refresh</button>
          </div>
        </div>
        <ErrorBox error={result.error} />
        <Deliveries webhook={w} />
        <Pager
          label="Deliveries"
          page={pageNumber(cursor)}
          total={conn.totalCount}
          hasPrevious={pageNumber(cursor) > 1}
          hasNext={conn.pageInfo.hasNextPage}
          onPrevious={() => setCursor(previousPage(cursor))}
          onNext={() => setCursor(nextPage(cursor, conn.pageInfo.endCursor))}
        />
      </section>
    </>
  );
}

function AttemptsChart({ attempts }: { attempts: { at: string; latencyMs: number; statusCode?: number | null }[] }) {
  const data = useMemo(() => {
    const sorted = [...attempts].sort((a, b) => a.at.localeCompare(b.at));
    const ok = (s?: number | null) => s !== null && s !== undefined && s >= 200 && s < 300;
    return {
      times: sorted.map((a) => new Date(a.at).getTime() / 1000),
      series: [
        { label: 'delivered', colorVar: '--ok', values: sorted.map((a) => (ok(a.statusCode) ? a.latencyMs : null)) },
        { label: 'failed', colorVar: '--bad', values: sorted.map((a) => (ok(a.statusCode) ? null : a.latencyMs)) },
      ],
    };
  }, [attempts]);
  return <TimeChart title="Attempt latency" times={data.times} series={data.series} height={150} />;
}

function AttemptList({ attempts }: { attempts: { id: string; statusCode?: number | null; latencyMs: number; error?: string | null; at: string; responseSnippet?: string | null; deliveryId?: string }[] }) {
  return (
    <ol class="attempts">
      {attempts.map((a) => (
        <li key={a.id}>
          <time dateTime={a.at}>{formatTime(a.at)}</time>{' '}
          <span class={`badge tone-${statusTone(a.statusCode)}`}>{a.statusCode ?? 'no answer'}</span>{' '}
          {formatMs(a.latencyMs)}
          {a.error ? <span class="bad-text"> {a.error}</span> : null}
          {a.responseSnippet ? <details><summary>Response</summary><pre class="code">{a.responseSnippet}</pre></details> : null}
        </li>
      ))}
    </ol>
  );
}

function Deliveries({ webhook }: { webhook: Webhook }) {
  const { canEdit } = useSession();
  const [state, redeliver] = useMutation(RedeliverMutation);
  const [done, setDone] = useState<string | null>(null);
  const nodes = webhook.deliveries.nodes;
  if (!nodes.length) return <p class="muted">No deliveries yet. Send a test event to try the endpoint.</p>;
  return (
    <>
      <ErrorBox error={state.error} />
      {done ? <p role="status" class="ok-text">Redelivery queued as {done}.</p> : null}
      <table class="table" data-testid="deliveries">
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Next attempt</th>
            {canEdit ? <th scope="col"><span class="sr-only">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {nodes.map((d) => (
            <tr key={d.id}>
              <td title={d.createdAt}>{formatDateTime(d.createdAt)}</td>
              <td><code>{d.eventType}</code>{d.event ? <div class="muted small"><code>{d.event.id}</code></div> : null}</td>
              <td><Badge value={d.status} />{d.lastStatusCode ? <span class="muted"> {d.lastStatusCode}</span> : null}</td>
              <td>
                <details>
                  <summary>{d.attemptCount} attempt{d.attemptCount === 1 ? '' : 's'}</summary>
                  <AttemptList attempts={d.attempts} />
                </details>
              </td>
              <td>{d.nextAttemptAt ? formatRelative(d.nextAttemptAt) : '—'}</td>
              {canEdit ? (
                <td>
                  <button type="button" onClick={async () => { const r = await redeliver({ deliveryId: d.id }); if (r.data) setDone(r.data.redeliver.delivery.id); }} disabled={state.fetching}>
                    Redeliver
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function WebhookActions({ webhook, reload }: { webhook: Webhook; reload(): void }) {
  const [testState, sendTest] = useMutation(SendTestEventMutation);
  const [updateState, update] = useMutation(UpdateWebhookMutation);
  const [rotateState, rotate] = useMutation(RotateWebhookSecretMutation);
  const [deleteState, remove] = useMutation(DeleteWebhookMutation);
  const [replayState, replay] = useMutation(ReplayWebhookMutation);
  const [dialog, setDialog] = useState<'none' | 'rotate' | 'delete' | 'replay' | 'events'>('none');
  const [grace, setGrace] = useState('24');
  const [since, setSince] = useState(() => isoToLocalInput(new Date(Date.now() - 3600_000)));
  const [until, setUntil] = useState('');
  const [onlyFailed, setOnlyFailed] = useState(false);
  const [events, setEvents] = useState<string[]>(webhook.eventTypes);
  const [notice, setNotice] = useState<string | null>(null);
  const [replayed, setReplayed] = useState<{ count: number; mark: ReplayMark; since: string; until: string; key: number } | null>(null);
  const { client } = useSession();
  const secret = rotateState.data?.rotateWebhookSecret.secret;
  const paused = webhook.status !== 'ACTIVE';

  return (
    <>
      <section class="actions" aria-label="Actions">
        <button type="button" class="primary" disabled={testState.fetching} onClick={async () => {
          const r = await sendTest({ webhookId: webhook.id });
          if (r.data) { setNotice(`Test event queued (delivery ${r.data.sendTestEvent.delivery.id}).`); reload(); }
        }}>Send test event</button>
        <button type="button" disabled={updateState.fetching} onClick={async () => {
          const r = await update({ input: { id: webhook.id, enabled: paused } });
          if (r.data) { setNotice(paused ? 'Resumed: waiting deliveries go out now.' : 'Paused: deliveries wait until you resume.'); reload(); }
        }}>{webhook.status === 'DISABLED' ? 'Re-enable' : paused ? 'Resume' : 'Pause'}</button>
        <button type="button" onClick={() => setDialog('events')}>Change events…</button>
        <button type="button" onClick={() => setDialog('replay')}>Replay…</button>
        <button type="button" onClick={() => setDialog('rotate')}>Rotate secret…</button>
        <button type="button" class="danger" onClick={() => setDialog('delete')}>Delete…</button>
      </section>
      {notice ? <p role="status" class="ok-text">{notice}</p> : null}
      <ErrorBox error={testState.error} />
      <ErrorBox error={updateState.error} />
      {secret ? <SecretOnce secret={secret} what="new signing secret" /> : null}
      {replayed ? <ReplayProgress key={replayed.key} webhookId={webhook.id} count={replayed.count} mark={replayed.mark} since={replayed.since} until={replayed.until} /> : null}

      <ConfirmDialog open={dialog === 'rotate'} title="Rotate the signing secret?" confirmLabel="Rotate secret" busy={rotateState.fetching}
        onCancel={() => setDialog('none')}
        onConfirm={async () => {
          const hours = Number(grace);
          const r = await rotate({ id: webhook.id, graceHours: Number.isFinite(hours) && grace.trim() ? hours : null });
          if (r.data) { setDialog('none'); reload(); }
        }}>
        <p>A new secret is issued and shown once. The old one keeps signing beside it for the grace period, so receivers can switch without losing a delivery.</p>
        <Field id="rot-grace" label="Grace period (hours)">
          <input id="rot-grace" inputMode="numeric" value={grace} onInput={(e) => setGrace(e.currentTarget.value)} />
        </Field>
        <ErrorBox error={rotateState.error} />
      </ConfirmDialog>

      <ConfirmDialog open={dialog === 'delete'} title="Delete this webhook?" confirmLabel="Delete webhook" danger busy={deleteState.fetching}
        onCancel={() => setDialog('none')}
        onConfirm={async () => {
          const r = await remove({ id: webhook.id });
          if (r.data) { setDialog('none'); navigate(href({ name: 'webhooks' })); }
        }}>
        <p>Deliveries to <code>{webhook.url}</code> stop, and its delivery history is removed. This cannot be undone.</p>
        <ErrorBox error={deleteState.error} />
      </ConfirmDialog>

      <ConfirmDialog open={dialog === 'replay'} title="Replay a time range" confirmLabel="Replay" busy={replayState.fetching}
        onCancel={() => setDialog('none')}
        onConfirm={async () => {
          const s = localInputToIso(since);
          if (!s) return;
          const mark = await replayMark(client, webhook.id);
          const u = localInputToIso(until);
          const r = await replay({ input: { webhookId: webhook.id, since: s, until: u, onlyFailed } });
          if (r.data) {
            const count = r.data.replayWebhook.count;
            setDialog('none');
            setNotice(`Replay queued ${count} deliveries.`);
            setReplayed({ count, mark, since: s, until: u ?? new Date().toISOString(), key: Date.now() });
            reload();
          }
        }}>
        <p>Sends again the events of this range that the endpoint subscribes to (same <code>webhook-id</code>).</p>
        <div class="form-grid">
          <Field id="rp-since" label="Since (local time)">
            <input id="rp-since" type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} />
          </Field>
          <Field id="rp-until" label="Until (empty: now)">
            <input id="rp-until" type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
          </Field>
        </div>
        <div class="checkbox-field">
          <input id="rp-failed" type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed(e.currentTarget.checked)} />
          <label for="rp-failed">Only events whose delivery failed</label>
        </div>
        <ErrorBox error={replayState.error} />
      </ConfirmDialog>

      <ConfirmDialog open={dialog === 'events'} title="Event types" confirmLabel="Save" busy={updateState.fetching}
        onCancel={() => { setEvents(webhook.eventTypes); setDialog('none'); }}
        onConfirm={async () => {
          if (!events.length) return;
          const r = await update({ input: { id: webhook.id, eventTypes: events } });
          if (r.data) { setDialog('none'); reload(); }
        }}>
        {dialog === 'events' ? <EventTypePicker selected={events} onChange={setEvents} /> : null}
      </ConfirmDialog>
    </>
  );
}
