// Integrations: searchable, filterable (IntegrationFilter), paginated (first/after).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { IntegrationsQuery } from '../api/operations';
import { useSession } from '../context';
import { Badge, Empty, ErrorBox, Loading, Pager } from '../components/ui';
import {
  CATEGORIES, STATUSES, currentAfter, filterFromSearch, filterToInput, filterToSearch, firstPage,
  isFilterEmpty, nextPage, pageNumber, previousPage, type FilterState,
} from '../lib/filters';
import { formatRelative, humanizeEnum } from '../lib/format';
import { href, navigate } from '../lib/router';
import { HealthBadge } from '../components/health';
import { addPatch, applyOverlay, integrationPatchFromEvent, useDebounced, useProjectEvents, type Overlay } from '../lib/liveEvents';

const PAGE_SIZE = 25;

export function IntegrationsList({ search }: { search: string }) {
  const { projectId, canEdit } = useSession();
  const filter = useMemo(() => filterFromSearch(search), [search]);
  const [text, setText] = useState(filter.text);
  const [cursor, setCursor] = useState(firstPage);
  const input = useMemo(() => filterToInput(filter), [filter]);

  // New filter or project: back to page 1.
  useEffect(() => setCursor(firstPage()), [search, projectId]);
  useEffect(() => setText(filter.text), [filter.text]);
  // Search as you type (debounced), kept in the URL.
  useEffect(() => {
    if (text === filter.text) return;
    const t = setTimeout(() => update({ text }), 300);
    return () => clearTimeout(t);
  }, [text]);

  const update = (patch: Partial<FilterState>) => navigate('/integrations' + filterToSearch({ ...filter, ...patch }), true);

  const [result, refetch] = useQuery({
    query: IntegrationsQuery,
    variables: { projectId, filter: input, first: PAGE_SIZE, after: currentAfter(cursor) },
  });
  const conn = result.data?.integrations;
  // Live: events patch the rows at once (name, enabled, status, health; deleted rows go),
  // then the page is read again (created rows, filters, counts).
  const [overlay, setOverlay] = useState<Overlay>({});
  useEffect(() => setOverlay({}), [result.data]);
  const refresh = useDebounced(() => refetch({ requestPolicy: 'network-only' }), 500);
  useProjectEvents(['integration.*'], (event) => {
    const patch = integrationPatchFromEvent(event);
    if (patch) setOverlay((o) => addPatch(o, patch));
    if (event.type !== 'integration.health_changed' || !patch) refresh();
  });
  const edges = useMemo(() => {
    if (!conn) return [];
    const nodes = applyOverlay(conn.edges.map((e) => e.node), overlay);
    return nodes.map((node) => ({ node }));
  }, [conn, overlay]);

  return (
    <>
      <div class="page-head row space">
        <h1>Integrations</h1>
        {canEdit ? <a class="button primary" href={href({ name: 'integration-new' })}>New integration</a> : null}
      </div>
      <form class="filters" role="search" aria-label="Filter integrations" onSubmit={(e) => { e.preventDefault(); update({ text }); }}>
        <div class="field">
          <label for="f-text">Search</label>
          <input id="f-text" type="search" placeholder="Name or description" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="f-category">Category</label>
          <select id="f-category" value={filter.category} onChange={(e) => update({ category: e.currentTarget.value as FilterState['category'] })}>
            <option value="">Any</option>
            {CATEGORIES.map((c) => <option key={c} value={c}>{humanizeEnum(c)}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" value={filter.status} onChange={(e) => update({ status: e.currentTarget.value as FilterState['status'] })}>
            <option value="">Any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{humanizeEnum(s)}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="f-enabled">Enabled</label>
          <select id="f-enabled" value={filter.enabled} onChange={(e) => update({ enabled: e.currentTarget.value as FilterState['enabled'] })}>
            <option value="">Any</option>
            <option value="true">Enabled</option>
            <option value="false">Disabled</option>
          </select>
        </div>
        <div class="field">
          <label for="f-tag">Tag</label>
          <input id="f-tag" value={filter.tag} onChange={(e) => update({ tag: e.currentTarget.value })} placeholder="e.g. prod" />
        </div>
        {!isFilterEmpty(filter) ? (
          <button type="button" class="link-button" onClick={() => { setText(''); navigate('/integrations', true); }}>Clear filters</button>
        ) : null}
      </form>
      {result.error ? <ErrorBox error={result.error} /> : null}
      {!conn && result.fetching ? <Loading /> : null}
      {conn ? (
        edges.length === 0 ? (
          <Empty>{isFilterEmpty(filter) ? 'No integrations yet.' : 'No integration matches these filters.'}</Empty>
        ) : (
          <>
            <p class="muted" role="status">{conn.totalCount} integration{conn.totalCount === 1 ? '' : 's'}</p>
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Category</th>
                  <th scope="col">Health</th>
                  <th scope="col">Status</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Circuit</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Base URL</th>
                  {projectId ? null : <th scope="col">Project</th>}
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {edges.map(({ node: i }) => (
                  <tr key={i.id}>
                    <td><a href={href({ name: 'integration', id: i.id, tab: 'overview' })}>{i.name}</a>{i.description ? <div class="muted small">{i.description}</div> : null}</td>
                    <td>{humanizeEnum(i.category)}<div class="muted small">{i.protocol}</div></td>
                    <td><HealthBadge status={i.health.status} reason={i.health.reason} /></td>
                    <td><Badge value={i.status} /></td>
                    <td><Badge value={String(i.enabled)} label={i.enabled ? 'Enabled' : 'Disabled'} /></td>
                    <td><Badge value={i.circuitState} /></td>
                    <td>{i.tags.map((t) => <span class="tag" key={t}>{t}</span>)}</td>
                    <td class="truncate"><code>{i.baseUrl ?? '—'}</code></td>
                    {projectId ? null : <td>{i.project.name}</td>}
                    <td title={i.updatedAt}>{formatRelative(i.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              label="Integrations"
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
