// New webhook endpoint with an event-type picker; the secret is shown once.
import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { CreateWebhookMutation, EventTypesQuery } from '../api/operations';
import { useSession } from '../context';
import { ErrorBox, Field, Loading, SecretOnce } from '../components/ui';
import { groupEventTypes, isValidPattern, normalizeSelection, patternMatches } from '../lib/events';
import { describeError, errorField } from '../lib/errors';
import { parseJsonObject } from '../lib/forms';
import { href } from '../lib/router';
import { CreateProjectForm } from './ProjectForm';

export function EventTypePicker({ selected, onChange }: { selected: string[]; onChange(next: string[]): void }) {
  const [result] = useQuery({ query: EventTypesQuery });
  const [custom, setCustom] = useState('');
  const [customError, setCustomError] = useState<string | null>(null);
  if (result.error) return <ErrorBox error={result.error} />;
  if (!result.data) return <Loading label="Loading event types…" />;
  const types = result.data.eventTypes;
  const groups = groupEventTypes(types.map((t) => t.name));
  const describe = new Map(types.map((t) => [t.name, t.description]));
  const toggle = (name: string, on: boolean) =>
    onChange(normalizeSelection(on ? [...selected, name] : selected.filter((s) => s !== name)));
  const covered = (name: string) => selected.some((p) => p !== name && patternMatches(p, name));
  const addCustom = () => {
    const p = custom.trim();
    if (!isValidPattern(p)) {
      setCustomError('Use a name like custom.deploy.finished, a prefix pattern like custom.*, or *');
      return;
    }
    setCustomError(null);
    setCustom('');
    onChange(normalizeSelection([...selected, p]));
  };
  const known = new Set([...types.map((t) => t.name), ...groups.map((g) => g.group + '.*'), '*']);
  const extra = selected.filter((s) => !known.has(s));
  return (
    <fieldset class="event-picker">
      <legend>Event types</legend>
      <div class="checkbox-field">
        <input id="ev-all" type="checkbox" checked={selected.includes('*')} onChange={(e) => toggle('*', e.currentTarget.checked)} />
        <label for="ev-all"><code>*</code> every event</label>
      </div>
      <div class="event-groups">
        {groups.map((g) => {
          const wildcard = `${g.group}.*`;
          return (
            <div class="event-group" key={g.group} role="group" aria-labelledby={`evg-${g.group}`}>
              <div class="checkbox-field">
                <input id={`ev-${wildcard}`} type="checkbox" checked={selected.includes(wildcard) || covered(wildcard)} disabled={covered(wildcard)} onChange={(e) => toggle(wildcard, e.currentTarget.checked)} />
                <label id={`evg-${g.group}`} for={`ev-${wildcard}`}><code>{wildcard}</code></label>
                {describe.get(wildcard) ? <span class="muted small">{describe.get(wildcard)}</span> : null}
              </div>
              {g.names.filter((n) => n !== wildcard).map((n) => (
                <div class="checkbox-field nested" key={n}>
                  <input id={`ev-${n}`} type="checkbox" checked={selected.includes(n) || covered(n)} disabled={covered(n)} onChange={(e) => toggle(n, e.currentTarget.checked)} aria-describedby={`evd-${n}`} />
                  <label for={`ev-${n}`}><code>{n}</code></label>
                  <span id={`evd-${n}`} class="muted small">{describe.get(n)}</span>
                </div>
              ))}
            </div>
          );
        })}
      </div>
      <div class="row">
        <div class="field grow">
          <label for="ev-custom">Other pattern</label>
          <input id="ev-custom" value={custom} onInput={(e) => setCustom(e.currentTarget.value)} placeholder="custom.deploy.* or incoming.github.*"
            onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); addCustom(); } }} />
          {customError ? <div class="field-error" role="alert">{customError}</div> : null}
        </div>
        <button type="button" onClick={addCustom}>Add</button>
      </div>
      {extra.length ? (
        <ul class="chips" aria-label="Other patterns">
          {extra.map((p) => (
            <li key={p}><code>{p}</code> <button type="button" class="link-button" aria-label={`Remove ${p}`} onClick={() => toggle(p, false)}>×</button></li>
          ))}
        </ul>
      ) : null}
      <p class="muted small" aria-live="polite">Selected: {selected.length ? selected.join(', ') : 'none'}</p>
    </fieldset>
  );
}

export function WebhookCreate() {
  const { projects, projectId, viewer, canEdit } = useSession();
  const [project, setProject] = useState(projectId ?? viewer.project?.id ?? projects[0]?.id ?? '');
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [headers, setHeaders] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [types, setTypes] = useState<string[]>([]);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [state, create] = useMutation(CreateWebhookMutation);
  const created = state.data?.createWebhook;
  const serverError = describeError(state.error ?? null);
  const field = errorField(serverError);

  if (!canEdit) return <p>Your token is read-only (VIEWER): creating webhooks needs EDITOR or ADMIN.</p>;
  if (created) {
    return (
      <>
        <h1>Webhook created</h1>
        <p>Deliveries to <code>{created.webhook.url}</code> are signed per Standard Webhooks with this secret.</p>
        <SecretOnce secret={created.secret} what="signing secret" />
        <p><a class="button primary" href={href({ name: 'webhook', id: created.webhook.id })}>Open the webhook</a></p>
      </>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!project) errs.projectId = 'Pick a project';
    if (!/^https?:\/\//i.test(url.trim())) errs.url = 'An http(s) URL is required';
    if (!types.length) errs.eventTypes = 'Pick at least one event type';
    const h = parseJsonObject(headers, 'Headers');
    if (h.error) errs.headers = h.error;
    setProblems(errs);
    if (Object.keys(errs).length) return;
    await create({
      input: { projectId: project, url: url.trim(), description: description.trim() || null, eventTypes: types, headers: h.value ?? null, enabled },
    });
  };
  const err = (k: string) => problems[k] ?? (field && (field === k || field.startsWith(k + '.') || field.startsWith(k + '[')) ? serverError?.message : undefined);
  return (
    <>
      <div class="page-head">
        <p class="crumbs"><a href={href({ name: 'webhooks' })}>Webhooks</a> /</p>
        <h1>New webhook</h1>
      </div>
      {projects.length === 0 && !viewer.project ? (
        <>
          <p>Webhooks belong to a project, and there is none yet.</p>
          <CreateProjectForm />
        </>
      ) : (
        <form class="form" onSubmit={submit} noValidate aria-label="New webhook">
          {serverError && !field ? <ErrorBox view={serverError} /> : null}
          <div class="form-grid">
            <Field id="w-project" label="Project" error={err('projectId')}>
              {viewer.project ? (
                <input id="w-project" value={viewer.project.name} disabled />
              ) : (
                <select id="w-project" value={project} onChange={(e) => setProject(e.currentTarget.value)}>
                  {projects.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
                </select>
              )}
            </Field>
            <Field id="w-url" label="Endpoint URL" hint="http(s); must pass the SSRF guard." error={err('url')}>
              <input id="w-url" type="url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} placeholder="https://hooks.example.com/patchbay" />
            </Field>
            <Field id="w-description" label="Description (optional)">
              <input id="w-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
            </Field>
            <Field id="w-headers" label="Extra headers (JSON object, optional)" error={err('headers')}>
              <input id="w-headers" class="mono" value={headers} onInput={(e) => setHeaders(e.currentTarget.value)} />
            </Field>
          </div>
          <EventTypePicker selected={types} onChange={setTypes} />
          {err('eventTypes') ? <div class="field-error" role="alert">{err('eventTypes')}</div> : null}
          <div class="checkbox-field">
            <input id="w-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
            <label for="w-enabled">Active (unchecked: created paused)</label>
          </div>
          <div class="row">
            <button class="primary" type="submit" disabled={state.fetching}>Create webhook</button>
            <a class="button" href={href({ name: 'webhooks' })}>Cancel</a>
          </div>
        </form>
      )}
    </>
  );
}
