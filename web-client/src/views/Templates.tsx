// Templates: the catalog (built-in OFFICIAL and custom COMMUNITY templates, search and
// category), a template's detail (schemas, operations, versions, publish / deprecate / share),
// and the custom template editor (create / update, every server problem at its path).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import {
  CreateTemplateMutation, DeprecateTemplateMutation, PublishTemplateMutation, ShareTemplateMutation, TemplateQuery,
  TemplatesQuery, UpdateTemplateMutation,
} from '../api/operations';
import type { Category, Protocol, TemplateAuthKind, TemplateQuery as TemplateData, TemplatesQuery as TemplatesData } from '../gql/graphql';
import { useSession } from '../context';
import { Badge, ConfirmDialog, Empty, ErrorBox, Field, Loading } from '../components/ui';
import { CATEGORIES } from '../lib/filters';
import { formatDateTime, humanizeEnum, prettyJson } from '../lib/format';
import { href, navigate } from '../lib/router';
import { formOf, problemsOf, problemsUnder } from '../lib/schemaForm';
import {
  JSON_PARTS, REQUIRED_PARTS, TEMPLATE_AUTH_KINDS, authKindLabel, blankEditor, editorFromTemplate, editorToInput, type EditorState, type JsonPart,
} from '../lib/templateEditor';

export type TemplateSummary = TemplatesData['templates']['nodes'][number];
type Template = NonNullable<TemplateData['template']>;

export function TemplateIcon({ icon }: { icon?: string | null }) {
  if (!icon) return <span class="tpl-icon" aria-hidden="true">🧩</span>;
  if (icon.startsWith('https://')) return <img class="tpl-icon" src={icon} alt="" width={28} height={28} />;
  return <span class="tpl-icon" aria-hidden="true">{icon}</span>;
}

export function SupportBadge({ level }: { level: string }) {
  return <Badge value={level} label={level} tone={level === 'OFFICIAL' ? 'info' : 'muted'} />;
}

/** Search, category and source filters over `templates`, with pages; `onPick` or links to the detail. */
export function TemplateCatalog({ onPick, projectId, publishedOnly, pickLabel }: {
  onPick?(t: TemplateSummary): void;
  projectId: string | null;
  publishedOnly?: boolean;
  pickLabel?: string;
}) {
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const [category, setCategory] = useState<Category | ''>('');
  const [source, setSource] = useState<'' | 'official' | 'community'>('');
  const [after, setAfter] = useState<(string | null)[]>([null]);
  useEffect(() => {
    const t = setTimeout(() => setSearch(text.trim()), 250);
    return () => clearTimeout(t);
  }, [text]);
  useEffect(() => setAfter([null]), [search, category, source, projectId]);
  const filter = useMemo(() => ({
    search: search || null,
    category: category || null,
    builtIn: source === '' ? null : source === 'official',
    projectId,
    state: publishedOnly ? ('PUBLISHED' as const) : null,
  }), [search, category, source, projectId, publishedOnly]);
  const [result] = useQuery({ query: TemplatesQuery, variables: { filter, first: 60, after: after[after.length - 1] } });
  const conn = result.data?.templates;
  const nodes = useMemo(() => (conn ? [...conn.nodes].sort((a, b) => a.name.localeCompare(b.name)) : []), [conn]);
  return (
    <>
      <form class="filters" role="search" aria-label="Filter templates" onSubmit={(e) => { e.preventDefault(); setSearch(text.trim()); }}>
        <div class="field">
          <label for="t-search">Search templates</label>
          <input id="t-search" type="search" placeholder="Name, slug or description" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="t-category">Category</label>
          <select id="t-category" value={category} onChange={(e) => setCategory(e.currentTarget.value as Category | '')}>
            <option value="">Any</option>
            {CATEGORIES.map((c) => <option key={c} value={c}>{humanizeEnum(c)}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="t-source">Support</label>
          <select id="t-source" value={source} onChange={(e) => setSource(e.currentTarget.value as typeof source)}>
            <option value="">Official and community</option>
            <option value="official">Official (built in)</option>
            <option value="community">Community (custom)</option>
          </select>
        </div>
        <p class="muted small" aria-live="polite">{conn ? `${conn.totalCount} template${conn.totalCount === 1 ? '' : 's'}` : ''}</p>
      </form>
      <ErrorBox error={result.error} />
      {!conn ? <Loading /> : !nodes.length ? <Empty>No template matches.</Empty> : (
        <ul class="tpl-grid" data-testid="template-catalog">
          {nodes.map((t) => (
            <li key={t.id} class="tpl-card" data-slug={t.slug}>
              <div class="tpl-card-head">
                <TemplateIcon icon={t.icon} />
                <div class="grow">
                  {onPick ? <strong>{t.name}</strong> : <a href={href({ name: 'template', id: t.id })}><strong>{t.name}</strong></a>}
                  <div class="muted small">{humanizeEnum(t.category)} · {t.protocol}{t.project ? ` · ${t.project.name}` : ''}</div>
                </div>
                <SupportBadge level={t.supportLevel} />
              </div>
              {t.description ? <p class="tpl-desc">{t.description}</p> : null}
              <div class="row small">
                {t.state !== 'PUBLISHED' ? <Badge value={t.state} tone={t.state === 'DRAFT' ? 'warn' : 'muted'} /> : null}
                <span class="muted">v{t.version} · {t.authKinds.map(authKindLabel).join(', ')} · used by {t.usageCount}</span>
              </div>
              {onPick ? (
                <button type="button" class="primary" onClick={() => onPick(t)} aria-label={`${pickLabel ?? 'Use'} ${t.name}`}>{pickLabel ?? 'Use'}</button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {conn && (after.length > 1 || conn.pageInfo.hasNextPage) ? (
        <nav class="pager" aria-label="Template pages">
          <button type="button" disabled={after.length <= 1} onClick={() => setAfter((a) => a.slice(0, -1))}>← Previous</button>
          <span>Page {after.length}</span>
          <button type="button" disabled={!conn.pageInfo.hasNextPage} onClick={() => setAfter((a) => [...a, conn.pageInfo.endCursor ?? null])}>Next →</button>
        </nav>
      ) : null}
    </>
  );
}

export function TemplatesPage() {
  const { canEdit, projectId } = useSession();
  return (
    <>
      <div class="page-head row space">
        <div>
          <h1>Templates</h1>
          <p class="muted">Ready-made integrations: built-in templates are OFFICIAL; your projects' own are COMMUNITY.</p>
        </div>
        {canEdit ? <a class="button primary" href={href({ name: 'template-new' })}>New custom template</a> : null}
      </div>
      <TemplateCatalog projectId={projectId} />
    </>
  );
}

function SchemaTable({ schema, title, empty }: { schema: unknown; title: string; empty: string }) {
  const form = formOf(schema);
  return (
    <section class="panel" aria-label={title}>
      <h2>{title}</h2>
      {form.fields.length ? (
        <table class="table compact">
          <thead><tr><th>Field</th><th>Type</th><th>Required</th><th>Default</th><th>Description</th></tr></thead>
          <tbody>
            {form.fields.map((f) => (
              <tr key={f.key}>
                <td><code>{f.key}</code></td>
                <td>{f.kind === 'enum' ? `one of ${(f.options ?? []).map(String).join(', ')}` : f.kind}{f.format ? ` (${f.format})` : ''}</td>
                <td>{f.required ? 'yes' : 'no'}</td>
                <td>{f.defaultValue !== undefined ? <code>{JSON.stringify(f.defaultValue)}</code> : '—'}</td>
                <td>{f.description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : <p class="muted">{empty}</p>}
    </section>
  );
}

export function TemplateDetail({ id }: { id: string }) {
  const { canEdit, projects } = useSession();
  const [result, refetch] = useQuery({ query: TemplateQuery, variables: { id } });
  const [publishState, publish] = useMutation(PublishTemplateMutation);
  const [deprecateState, deprecate] = useMutation(DeprecateTemplateMutation);
  const [dialog, setDialog] = useState<'none' | 'publish' | 'deprecate' | 'share'>('none');
  const [notice, setNotice] = useState<string | null>(null);
  const t = result.data?.template;
  const reload = () => refetch({ requestPolicy: 'network-only' });
  if (result.error && !t) return <><p class="crumbs"><a href={href({ name: 'templates' })}>Templates</a> /</p><ErrorBox error={result.error} /></>;
  if (!t) return result.fetching ? <Loading /> : <p>Not found. <a href={href({ name: 'templates' })}>Back to templates</a></p>;
  const owned = !t.builtIn && !!t.project && canEdit;
  return (
    <>
      <div class="page-head">
        <p class="crumbs"><a href={href({ name: 'templates' })}>Templates</a> /</p>
        <div class="row space">
          <div class="row">
            <TemplateIcon icon={t.icon} />
            <h1>{t.name}</h1>
            <SupportBadge level={t.supportLevel} />
            <Badge value={t.state} tone={t.state === 'PUBLISHED' ? 'ok' : t.state === 'DRAFT' ? 'warn' : 'muted'} />
            <span class="muted">version {t.version}{t.current ? ' (current)' : ''}</span>
          </div>
          <div class="row">
            {t.state === 'PUBLISHED' && canEdit ? (
              <a class="button primary" href={`${href({ name: 'integration-new' })}?template=${encodeURIComponent(t.id)}`}>Use this template</a>
            ) : null}
            {owned ? <a class="button" href={href({ name: 'template-edit', id: t.id })}>{t.state === 'DRAFT' ? 'Edit' : 'Edit (new version)'}</a> : null}
            {owned && t.state === 'DRAFT' ? <button type="button" onClick={() => setDialog('publish')}>Publish…</button> : null}
            {owned && t.state === 'PUBLISHED' ? <button type="button" onClick={() => setDialog('deprecate')}>Deprecate…</button> : null}
            {owned && t.sharing ? <button type="button" onClick={() => setDialog('share')}>Share…</button> : null}
          </div>
        </div>
        {t.description ? <p class="muted">{t.description}</p> : null}
      </div>
      {notice ? <p role="status" class="ok-text">{notice}</p> : null}
      <ConfirmDialog open={dialog === 'publish'} title={`Publish version ${t.version}?`} confirmLabel="Publish" busy={publishState.fetching}
        onCancel={() => setDialog('none')}
        onConfirm={async () => {
          const r = await publish({ id: t.id });
          if (r.data) { setDialog('none'); setNotice(`Version ${t.version} is published: immutable and deployable.`); reload(); }
        }}>
        <p>A published version is immutable: later edits become a new version. Integrations can be made from it at once.</p>
        <ErrorBox error={publishState.error} />
      </ConfirmDialog>
      <ConfirmDialog open={dialog === 'deprecate'} title={`Deprecate version ${t.version}?`} confirmLabel="Deprecate" danger busy={deprecateState.fetching}
        onCancel={() => setDialog('none')}
        onConfirm={async () => {
          const r = await deprecate({ id: t.id });
          if (r.data) { setDialog('none'); setNotice(`Version ${t.version} is deprecated.`); reload(); }
        }}>
        <p>Integrations made from it keep working; no new integration can be made from this version.</p>
        <ErrorBox error={deprecateState.error} />
      </ConfirmDialog>
      {dialog === 'share' && t.sharing ? (
        <ShareDialog template={t} onClose={(saved) => { setDialog('none'); if (saved) { setNotice('Sharing saved.'); reload(); } }} />
      ) : null}

      <div class="grid-2">
        <section class="panel" aria-labelledby="tpl-facts">
          <h2 id="tpl-facts">About</h2>
          <dl class="props">
            <dt>Slug</dt><dd><code>{t.slug}</code></dd>
            <dt>Category</dt><dd>{humanizeEnum(t.category)}</dd>
            <dt>Protocol</dt><dd>{t.protocol}</dd>
            <dt>Base URL</dt><dd><code>{t.baseUrl}</code></dd>
            <dt>Auth</dt><dd>{t.authKinds.map((k, i) => <span class="tag" key={k}>{authKindLabel(k)}{i === 0 ? ' (default)' : ''}</span>)}</dd>
            <dt>Health check</dt><dd><code>{t.healthCheck.operation}</code> expecting {t.healthCheck.expectedStatus.join(', ')}{t.healthCheck.maxLatencyMs ? ` within ${t.healthCheck.maxLatencyMs} ms` : ''}</dd>
            {t.rateLimit?.requestsPerMinute ? <><dt>Rate limit</dt><dd>{t.rateLimit.requestsPerMinute}/min</dd></> : null}
            {t.oauth2 ? <><dt>OAuth2</dt><dd><code>{t.oauth2.authorizeUrl}</code>{t.oauth2.scopes.length ? ` · scopes ${t.oauth2.scopes.join(' ')}` : ''}</dd></> : null}
            {t.docsUrl ? <><dt>Docs</dt><dd><a href={t.docsUrl} target="_blank" rel="noopener noreferrer">{t.docsUrl}</a></dd></> : null}
            <dt>Owner</dt><dd>{t.builtIn ? 'patchbay (built in)' : t.project?.name ?? 'another project (shared with you)'}</dd>
            {t.sharing ? <><dt>Shared with</dt><dd data-testid="sharing">{t.sharing.allProjects ? 'every project' : t.sharing.projectIds.length ? t.sharing.projectIds.map((p) => projects.find((x) => x.id === p)?.name ?? p).join(', ') : 'not shared'}</dd></> : null}
            <dt>Used by</dt><dd>{t.usageCount} integration{t.usageCount === 1 ? '' : 's'}</dd>
            <dt>Created</dt><dd>{formatDateTime(t.createdAt)} by {t.createdBy}</dd>
            {t.publishedAt ? <><dt>Published</dt><dd>{formatDateTime(t.publishedAt)}</dd></> : null}
            {t.deprecatedAt ? <><dt>Deprecated</dt><dd>{formatDateTime(t.deprecatedAt)}</dd></> : null}
          </dl>
        </section>
        <section class="panel" aria-labelledby="tpl-versions">
          <h2 id="tpl-versions">Versions</h2>
          <ul class="transitions">
            {t.versions.map((v) => (
              <li key={v.id}>
                {v.id === t.id ? <strong>version {v.version}</strong> : <a href={href({ name: 'template', id: v.id })}>version {v.version}</a>}
                <Badge value={v.state} tone={v.state === 'PUBLISHED' ? 'ok' : v.state === 'DRAFT' ? 'warn' : 'muted'} />
                {v.current ? <span class="muted">current</span> : null}
                <span class="muted small">{formatDateTime(v.publishedAt ?? v.createdAt)}</span>
              </li>
            ))}
          </ul>
          {t.webhookEvents.length ? <><h3>Webhook events</h3><p>{t.webhookEvents.map((e) => <span class="tag" key={e}>{e}</span>)}</p></> : null}
        </section>
      </div>
      <div class="grid-2">
        <SchemaTable schema={t.configSchema} title="Settings (config)" empty="No settings." />
        <SchemaTable schema={t.credentialSchema} title={`Credentials (${authKindLabel(t.authKinds[0])})`} empty="No credential fields." />
      </div>
      <section class="panel spaced" aria-labelledby="tpl-ops">
        <h2 id="tpl-ops">Operations</h2>
        <table class="table compact">
          <thead><tr><th>Name</th><th>Call</th><th>Parameters</th><th>Pagination</th><th>Description</th></tr></thead>
          <tbody>
            {t.operations.map((op) => (
              <tr key={op.name}>
                <td><code>{op.name}</code></td>
                <td><code>{op.method} {op.path}</code></td>
                <td>{op.parameters.length ? op.parameters.map((p) => <span class="tag" key={p.name}>{p.name}{p.required ? '*' : ''} <span class="muted">{p.in.toLowerCase()}</span></span>) : '—'}</td>
                <td>{op.pagination ? humanizeEnum(op.pagination.style) : '—'}</td>
                <td>{op.description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <details class="panel spaced">
        <summary>Raw schemas</summary>
        <h3>configSchema</h3><pre class="code">{prettyJson(t.configSchema)}</pre>
        <h3>credentialSchema</h3><pre class="code">{prettyJson(t.credentialSchema)}</pre>
        <h3>exampleConfig</h3><pre class="code">{prettyJson(t.exampleConfig)}</pre>
      </details>
    </>
  );
}

function ShareDialog({ template, onClose }: { template: Template; onClose(saved: boolean): void }) {
  const { projects } = useSession();
  const [all, setAll] = useState(template.sharing?.allProjects ?? false);
  const [chosen, setChosen] = useState<string[]>(template.sharing?.projectIds ?? []);
  const [state, share] = useMutation(ShareTemplateMutation);
  const others = projects.filter((p) => p.id !== template.project?.id);
  return (
    <ConfirmDialog open title="Share this template" confirmLabel="Save sharing" busy={state.fetching}
      onCancel={() => onClose(false)}
      onConfirm={async () => {
        const r = await share({ input: { templateId: template.id, allProjects: all, projectIds: all ? [] : chosen } });
        if (r.data) onClose(true);
      }}>
      <p>Projects it is shared with can see and deploy its published versions; only {template.project?.name ?? 'its project'} can change it.</p>
      <div class="checkbox-field">
        <input id="sh-all" type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} />
        <label for="sh-all">Every project, present and future</label>
      </div>
      <fieldset disabled={all}>
        <legend>Projects</legend>
        {others.length ? others.map((p) => (
          <div class="checkbox-field" key={p.id}>
            <input id={`sh-${p.id}`} type="checkbox" checked={chosen.includes(p.id)}
              onChange={(e) => setChosen((c) => (e.currentTarget.checked ? [...c, p.id] : c.filter((x) => x !== p.id)))} />
            <label for={`sh-${p.id}`}>{p.name}</label>
          </div>
        )) : <p class="muted">There is no other project this token can see.</p>}
      </fieldset>
      <ErrorBox error={state.error} />
    </ConfirmDialog>
  );
}

const PART_HELP: Record<JsonPart, string> = {
  configSchema: 'JSON Schema 2020-12 (type: object) of the non-secret settings; the wizard builds its form from it.',
  exampleConfig: 'A config that validates against configSchema (used to check the base URL).',
  credentialSchema: 'JSON Schema 2020-12 of the secret fields of the default auth kind.',
  credentialMapping: '{ "kind": <default auth kind>, … } with {{credentials.<field>}} placeholders (needed unless the default is NONE).',
  exampleCredentials: 'Fake credentials that validate against credentialSchema (optional; when editing, empty keeps the stored one).',
  headers: 'Headers sent with every call; values may use {{config.<key>}} (never credentials).',
  operations: '[{ name, method, path, parameters: [{ name, in: path|query|body, required, schema }], body, pagination }]',
  healthCheck: '{ "operation": <a name in operations>, "expectedStatus": [200], "maxLatencyMs": 2000 }',
  rateLimit: '{ "requestsPerMinute": 60 } (optional)',
  oauth2: '{ "authorizeUrl", "tokenUrl", "scopes": [] } when OAUTH2 is an auth kind.',
  incomingWebhooks: '{ "scheme": GITHUB|SLACK|STANDARD_WEBHOOKS|SHARED_TOKEN, "eventNameSource": "header:X-Event" } (optional)',
};

export function TemplateEditor({ id }: { id: string | null }) {
  const { canEdit } = useSession();
  const [result] = useQuery({ query: TemplateQuery, variables: { id: id ?? '' }, pause: !id });
  const t = result.data?.template;
  if (!canEdit) return <p>Your token is read-only (VIEWER): editing templates needs EDITOR or ADMIN.</p>;
  if (id && !t) return result.error ? <ErrorBox error={result.error} /> : <Loading />;
  if (t && (t.builtIn || !t.project)) return <p>Built-in and shared templates are read-only. <a href={href({ name: 'template', id: t.id })}>Back</a></p>;
  return <TemplateEditorForm key={t?.id ?? 'new'} existing={t ?? null} />;
}

function TemplateEditorForm({ existing }: { existing: Template | null }) {
  const { projects, projectId, viewer } = useSession();
  const [state, setState] = useState<EditorState>(() =>
    existing ? editorFromTemplate(existing) : blankEditor(projectId ?? viewer.project?.id ?? projects[0]?.id ?? ''),
  );
  const [local, setLocal] = useState<Record<string, string>>({});
  const [createState, create] = useMutation(CreateTemplateMutation);
  const [updateState, update] = useMutation(UpdateTemplateMutation);
  const mutation = existing ? updateState : createState;
  const serverProblems = useMemo(() => problemsUnder(problemsOf(mutation.error), 'input'), [mutation.error]);
  const set = <K extends keyof EditorState>(key: K, value: EditorState[K]) => setState((s) => ({ ...s, [key]: value }));
  const setJson = (part: JsonPart, text: string) => setState((s) => ({ ...s, json: { ...s.json, [part]: text } }));
  const errorAt = (key: string): string | null => {
    const messages = [local[key], ...(serverProblems[key] ?? [])].filter(Boolean);
    return messages.length ? messages.join(' · ') : null;
  };
  const known = new Set<string>(['projectId', 'slug', 'name', 'description', 'category', 'protocol', 'icon', 'docsUrl', 'authKinds', 'baseUrl', 'webhookEvents', ...JSON_PARTS]);
  const elsewhere = Object.entries(serverProblems).filter(([k]) => !known.has(k));
  const problemCount = Object.values(serverProblems).reduce((n, list) => n + list.length, 0);

  const submit = async (e: Event) => {
    e.preventDefault();
    const { input, errors } = editorToInput(state);
    if (!existing && !state.projectId) errors.projectId = 'Pick a project';
    if (!existing && !input.slug) errors.slug = 'is required';
    if (!input.name) errors.name = 'is required';
    setLocal(errors);
    if (Object.keys(errors).length) {
      document.getElementById(`te-${Object.keys(errors)[0]}`)?.focus();
      return;
    }
    if (existing) {
      const { slug: _slug, ...rest } = input;
      const r = await update({ input: { id: existing.id, ...rest } });
      if (r.data) navigate(href({ name: 'template', id: r.data.updateTemplate.template.id }));
    } else {
      const r = await create({ input: { projectId: state.projectId, ...input, configSchema: input.configSchema, credentialSchema: input.credentialSchema, exampleConfig: input.exampleConfig, operations: input.operations, healthCheck: input.healthCheck } });
      if (r.data) navigate(href({ name: 'template', id: r.data.createTemplate.template.id }));
    }
  };
  // After a refused save, focus the first field with a problem.
  useEffect(() => {
    const first = Object.keys(serverProblems)[0];
    if (first !== undefined) document.getElementById(`te-${first}`)?.focus();
  }, [serverProblems]);

  const defaultKind = state.authKinds[0] ?? 'NONE';
  return (
    <>
      <div class="page-head">
        <p class="crumbs"><a href={href({ name: 'templates' })}>Templates</a> /{existing ? <> <a href={href({ name: 'template', id: existing.id })}>{existing.name}</a> /</> : null}</p>
        <h1>{existing ? `Edit ${existing.name}` : 'New custom template'}</h1>
        {existing && existing.state !== 'DRAFT' ? (
          <p class="muted">Version {existing.version} is {existing.state.toLowerCase()} and immutable: saving makes version {existing.version + 1}, a draft.</p>
        ) : null}
      </div>
      <form class="form" onSubmit={submit} noValidate aria-label={existing ? 'Edit template' : 'New template'}>
        {mutation.error ? (
          problemCount ? (
            <div class="error-box" role="alert" data-testid="template-problems">
              <strong>The server refused the template: {problemCount} problem{problemCount === 1 ? '' : 's'}</strong>
              <code class="code-tag">BAD_USER_INPUT</code>
              <div>Each one is shown at its field below.</div>
              {elsewhere.length ? <ul>{elsewhere.map(([k, list]) => list.map((m) => <li key={k + m}><code>{k || 'input'}</code>: {m}</li>))}</ul> : null}
            </div>
          ) : <ErrorBox error={mutation.error} />
        ) : null}
        <div class="form-grid">
          {!existing ? (
            <Field id="te-projectId" label="Project" error={errorAt('projectId')}>
              {viewer.project ? <input id="te-projectId" value={viewer.project.name} disabled /> : (
                <select id="te-projectId" value={state.projectId} onChange={(e) => set('projectId', e.currentTarget.value)}>
                  <option value="">Choose…</option>
                  {projects.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
                </select>
              )}
            </Field>
          ) : null}
          <Field id="te-slug" label="Slug" hint={existing ? 'Fixed once created.' : 'a-z, 0-9 and dashes; unique in the project.'} error={errorAt('slug')}>
            <input id="te-slug" value={state.slug} disabled={!!existing} onInput={(e) => set('slug', e.currentTarget.value)} spellcheck={false} />
          </Field>
          <Field id="te-name" label="Template name" error={errorAt('name')}>
            <input id="te-name" value={state.name} onInput={(e) => set('name', e.currentTarget.value)} maxLength={100} />
          </Field>
          <Field id="te-category" label="Category" error={errorAt('category')}>
            <select id="te-category" value={state.category} onChange={(e) => set('category', e.currentTarget.value as Category)}>
              {CATEGORIES.map((c) => <option key={c} value={c}>{humanizeEnum(c)}</option>)}
            </select>
          </Field>
          <Field id="te-protocol" label="Protocol" error={errorAt('protocol')}>
            <select id="te-protocol" value={state.protocol} onChange={(e) => set('protocol', e.currentTarget.value as Protocol)}>
              <option value="REST">REST</option>
              <option value="GRAPHQL">GraphQL</option>
            </select>
          </Field>
          <Field id="te-icon" label="Icon" hint="An emoji or an https URL." error={errorAt('icon')}>
            <input id="te-icon" value={state.icon} onInput={(e) => set('icon', e.currentTarget.value)} />
          </Field>
          <Field id="te-docsUrl" label="Docs URL" hint="https link to the API reference (optional)." error={errorAt('docsUrl')}>
            <input id="te-docsUrl" type="url" value={state.docsUrl} onInput={(e) => set('docsUrl', e.currentTarget.value)} />
          </Field>
          <Field id="te-baseUrl" label="Base URL" hint="May use {{config.<key>}}; no trailing slash." error={errorAt('baseUrl')}>
            <input id="te-baseUrl" class="mono" value={state.baseUrl} onInput={(e) => set('baseUrl', e.currentTarget.value)} spellcheck={false} />
          </Field>
        </div>
        <Field id="te-description" label="Description" error={errorAt('description')}>
          <textarea id="te-description" rows={2} value={state.description} onInput={(e) => set('description', e.currentTarget.value)} />
        </Field>
        <fieldset class={errorAt('authKinds') ? 'has-error' : ''}>
          <legend>Auth kinds</legend>
          <div class="form-grid">
            <Field id="te-authKinds" label="Default auth kind" hint="credentialSchema and credentialMapping describe this one.">
              <select id="te-authKinds" value={defaultKind}
                onChange={(e) => { const k = e.currentTarget.value as TemplateAuthKind; set('authKinds', [k, ...state.authKinds.filter((x) => x !== k)]); }}>
                {TEMPLATE_AUTH_KINDS.map((k) => <option key={k} value={k}>{authKindLabel(k)}</option>)}
              </select>
            </Field>
            <div class="field">
              <span class="label-like" id="te-other-kinds">Also supported</span>
              <div class="row" role="group" aria-labelledby="te-other-kinds">
                {TEMPLATE_AUTH_KINDS.filter((k) => k !== defaultKind).map((k) => (
                  <span class="checkbox-field" key={k}>
                    <input id={`te-kind-${k}`} type="checkbox" checked={state.authKinds.includes(k)}
                      onChange={(e) => set('authKinds', e.currentTarget.checked ? [...state.authKinds, k] : state.authKinds.filter((x) => x !== k))} />
                    <label for={`te-kind-${k}`}>{authKindLabel(k)}</label>
                  </span>
                ))}
              </div>
            </div>
          </div>
          {errorAt('authKinds') ? <div class="field-error" role="alert">{errorAt('authKinds')}</div> : null}
        </fieldset>
        <div class="json-parts">
          {JSON_PARTS.map((part) => (
            <Field key={part} id={`te-${part}`} label={`${part}${REQUIRED_PARTS.includes(part) ? ' *' : ''}`} hint={PART_HELP[part]} error={errorAt(part)}>
              <textarea id={`te-${part}`} class="mono" spellcheck={false} rows={part === 'operations' || part === 'configSchema' ? 12 : 5}
                value={state.json[part]} onInput={(e) => setJson(part, e.currentTarget.value)}
                aria-describedby={`te-${part}-hint`} aria-invalid={errorAt(part) ? true : undefined} />
            </Field>
          ))}
        </div>
        <Field id="te-webhookEvents" label="Webhook events" hint="Event names the provider sends, comma-separated (optional)." error={errorAt('webhookEvents')}>
          <input id="te-webhookEvents" value={state.webhookEvents} onInput={(e) => set('webhookEvents', e.currentTarget.value)} />
        </Field>
        <div class="row">
          <button type="submit" class="primary" disabled={mutation.fetching}>{existing ? (existing.state === 'DRAFT' ? 'Save draft' : 'Save as a new version') : 'Create template'}</button>
          <a class="button" href={existing ? href({ name: 'template', id: existing.id }) : href({ name: 'templates' })}>Cancel</a>
        </div>
      </form>
    </>
  );
}
