// Webhook endpoints of the selected project (or all).
import { useEffect, useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { DeliveriesSubscription, WebhooksQuery } from '../api/operations';
import { useDebounced, useProjectEvents } from '../lib/liveEvents';
import { useSession } from '../context';
import { Badge, Empty, ErrorBox, Loading, Pager } from '../components/ui';
import { currentAfter, firstPage, nextPage, pageNumber, previousPage } from '../lib/filters';
import { formatRelative } from '../lib/format';
import { href } from '../lib/router';

export function WebhooksList() {
  const { projectId, canEdit, client } = useSession();
  const [cursor, setCursor] = useState(firstPage);
  useEffect(() => setCursor(firstPage()), [projectId]);
  const [result, refetch] = useQuery({ query: WebhooksQuery, variables: { projectId, first: 25, after: currentAfter(cursor) } });
  // Live: webhook events (disabled after failures, tests) and delivery attempts (failure
  // counts, last delivery) read the page again, debounced.
  const refresh = useDebounced(() => refetch({ requestPolicy: 'network-only' }), 700);
  useProjectEvents(['webhook.*'], refresh);
  useEffect(() => {
    const { unsubscribe } = client.subscription(DeliveriesSubscription, {}).subscribe((r) => { if (r.data) refresh(); });
    return unsubscribe;
  }, [client]);
  const conn = result.data?.webhooks;
  return (
    <>
      <div class="page-head row space">
        <h1>Webhooks</h1>
        {canEdit ? <a class="button primary" href={href({ name: 'webhook-new' })}>New webhook</a> : null}
      </div>
      <ErrorBox error={result.error} />
      {!conn && result.fetching ? <Loading /> : null}
      {conn ? (
        conn.nodes.length === 0 ? (
          <Empty>No webhook endpoints yet.</Empty>
        ) : (
          <>
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Status</th>
                  <th scope="col">Events</th>
                  <th scope="col">Failures in a row</th>
                  <th scope="col">Last delivery</th>
                  {projectId ? null : <th scope="col">Project</th>}
                </tr>
              </thead>
              <tbody>
                {conn.nodes.map((w) => (
                  <tr key={w.id}>
                    <td><a href={href({ name: 'webhook', id: w.id })}><code>{w.url}</code></a>{w.description ? <div class="muted small">{w.description}</div> : null}</td>
                    <td><Badge value={w.status} />{w.disabledReason ? <div class="muted small">{w.disabledReason}</div> : null}</td>
                    <td>{w.eventTypes.map((t) => <span class="tag" key={t}>{t}</span>)}</td>
                    <td class={w.failureCount ? 'bad-text' : ''}>{w.failureCount}</td>
                    <td title={w.lastDeliveryAt ?? ''}>{formatRelative(w.lastDeliveryAt)}</td>
                    {projectId ? null : <td>{w.project?.name ?? '—'}</td>}
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              label="Webhooks"
              page={pageNumber(cursor)}
              total={conn.totalCount}
              hasPrevious={pageNumber(cursor) > 1}
              hasNext={conn.pageInfo.hasNextPage}
              onPrevious={() => setCursor(previousPage(cursor))}
              onNext={() => setCursor(nextPage(cursor, conn.pageInfo.endCursor))}
            />
          </>
        )
      ) : null}
    </>
  );
}
