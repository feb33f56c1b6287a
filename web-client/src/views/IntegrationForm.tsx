// Create and edit forms of an integration (fields of Create/UpdateIntegrationInput).
import { useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { CreateIntegrationMutation, UpdateIntegrationMutation } from '../api/operations';
import type { Category, HttpMethod, IntegrationQuery, IntegrationStatus, Protocol } from '../gql/graphql';
import { useSession } from '../context';
import { ErrorBox, Field } from '../components/ui';
import { CATEGORIES, STATUSES, parseTags } from '../lib/filters';
import { parseJsonObject, parseOptionalInt, parseStatusList } from '../lib/forms';
import { describeError, errorField } from '../lib/errors';
import { humanizeEnum, prettyJson } from '../lib/format';
import { href, navigate } from '../lib/router';
import { CreateProjectForm } from './ProjectForm';
import { HealthCheckFields } from './HealthCheckFields';
import { healthCheckFieldOf, healthCheckFormFrom, toHealthCheckInput, type HealthCheckForm } from '../lib/healthCheckForm';

const PROTOCOLS: Protocol[] = ['REST', 'GRAPHQL', 'WEBSOCKET', 'GRPC', 'SOAP', 'CUSTOM'];
const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];

type Existing = NonNullable<IntegrationQuery['integration']>;

interface FormState {
  projectId: string;
  name: string;
  description: string;
  category: Category;
  protocol: Protocol;
  status: IntegrationStatus;
  enabled: boolean;
  tags: string;
  baseUrl: string;
  timeoutMs: string;
  checkMethod: HttpMethod;
  checkPath: string;
  checkStatus: string;
  headers: string;
  config: string;
  allowAbsoluteUrls: boolean;
}

function initial(existing: Existing | null, projectId: string): FormState {
  return {
    projectId: existing?.project.id ?? projectId,
    name: existing?.name ?? '',
    description: existing?.description ?? '',
    category: existing?.category ?? 'CUSTOM',
    protocol: existing?.protocol ?? 'REST',
    status: existing?.status ?? 'ACTIVE',
    enabled: existing?.enabled ?? true,
    tags: existing?.tags.join(', ') ?? '',
    baseUrl: existing?.baseUrl ?? '',
    timeoutMs: existing ? String(existing.timeoutMs) : '',
    checkMethod: existing?.connectionCheck?.method ?? 'GET',
    checkPath: existing?.connectionCheck?.path ?? '/',
    checkStatus: existing?.connectionCheck?.expectedStatus.join(', ') ?? '',
    headers: existing && existing.headers && Object.keys(existing.headers as object).length ? prettyJson(existing.headers) : '',
    config: existing && existing.config && Object.keys(existing.config as object).length ? prettyJson(existing.config) : '',
    allowAbsoluteUrls: existing?.allowAbsoluteUrls ?? false,
  };
}

export function IntegrationForm({ existing, onSaved }: { existing: Existing | null; onSaved(id: string): void }) {
  const { projects, projectId, viewer } = useSession();
  const [form, setForm] = useState<FormState>(() => initial(existing, projectId ?? viewer.project?.id ?? projects[0]?.id ?? ''));
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [createState, create] = useMutation(CreateIntegrationMutation);
  const [updateState, update] = useMutation(UpdateIntegrationMutation);
  const state = existing ? updateState : createState;
  const serverError = describeError(state.error ?? null);
  const serverField = errorField(serverError);
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => setForm((f) => ({ ...f, [key]: value }));
  // Optional scheduled health check (create only; the Health tab edits it afterwards).
  const [withCheck, setWithCheck] = useState(false);
  const [check, setCheck] = useState<HealthCheckForm>(() => ({ ...healthCheckFormFrom(null), path: '/health', intervalSeconds: '60' }));
  const [checkProblems, setCheckProblems] = useState<Record<string, string>>({});
  const setCheckField = <K extends keyof HealthCheckForm>(key: K, value: HealthCheckForm[K]) => setCheck((c) => ({ ...c, [key]: value }));
  const serverCheckField = healthCheckFieldOf(serverField);

  const submit = async (event: Event) => {
    event.preventDefault();
    const errs: Record<string, string> = {};
    if (!form.name.trim()) errs.name = 'A name is required';
    if (!existing && !form.projectId) errs.projectId = 'Pick a project (create one first)';
    const headers = parseJsonObject(form.headers, 'Headers');
    if (headers.error) errs.headers = headers.error;
    const config = parseJsonObject(form.config, 'Config');
    if (config.error) errs.config = config.error;
    const timeout = parseOptionalInt(form.timeoutMs, 100, 300_000, 'Timeout');
    if (timeout.error) errs.timeoutMs = timeout.error;
    const statuses = parseStatusList(form.checkStatus);
    if (statuses.error) errs.checkStatus = statuses.error;
    const healthCheck = !existing && withCheck ? toHealthCheckInput(check) : null;
    setCheckProblems(healthCheck?.errors ?? {});
    setProblems(errs);
    if (Object.keys(errs).length || (healthCheck && Object.keys(healthCheck.errors).length)) return;
    const common = {
      name: form.name.trim(),
      description: form.description.trim() || null,
      category: form.category,
      protocol: form.protocol,
      status: form.status,
      enabled: form.enabled,
      tags: parseTags(form.tags),
      baseUrl: form.baseUrl.trim() || null,
      timeoutMs: timeout.value,
      connectionCheck: { method: form.checkMethod, path: form.checkPath.trim() || '/', expectedStatus: statuses.value },
      allowAbsoluteUrls: form.allowAbsoluteUrls,
      headers: headers.value ?? {},
      config: config.value ?? {},
    };
    if (existing) {
      const r = await update({ input: { id: existing.id, expectedVersion: existing.version, ...common } });
      if (r.data) onSaved(r.data.updateIntegration.integration.id);
    } else {
      const r = await create({
        input: { projectId: form.projectId, ...common, timeoutMs: common.timeoutMs ?? null, ...(healthCheck?.value ? { healthCheck: healthCheck.value } : {}) },
      });
      if (r.data) onSaved(r.data.createIntegration.integration.id);
    }
  };
  const err = (key: string, ...serverNames: string[]) =>
    problems[key] ?? (serverField && [key, ...serverNames].some((n) => serverField === n || serverField.startsWith(n + '.')) ? serverError?.message : null);

  return (
    <form class="form" onSubmit={submit} noValidate aria-label={existing ? 'Edit integration' : 'New integration'}>
      {serverError && (!serverField || serverCheckField === 'healthCheck') ? <ErrorBox view={serverError} /> : null}
      {serverError?.kind === 'conflict' ? <p>Someone changed this integration meanwhile: reload the page to edit the newest version.</p> : null}
      {!existing ? (
        <Field id="i-project" label="Project" error={err('projectId')}>
          {viewer.project ? (
            <input id="i-project" value={viewer.project.name} disabled />
          ) : (
            <select id="i-project" value={form.projectId} onChange={(e) => set('projectId', e.currentTarget.value)} required>
              <option value="">Choose…</option>
              {projects.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </select>
          )}
        </Field>
      ) : null}
      <div class="form-grid">
        <Field id="i-name" label="Name" hint="Unique within the project, 1-100 characters." error={err('name')}>
          <input id="i-name" value={form.name} onInput={(e) => set('name', e.currentTarget.value)} required maxLength={100} />
        </Field>
        <Field id="i-base" label="Base URL" hint="http(s) URL every call is relative to; no credentials in it." error={err('baseUrl')}>
          <input id="i-base" type="url" value={form.baseUrl} onInput={(e) => set('baseUrl', e.currentTarget.value)} placeholder="https://api.example.com/v1" />
        </Field>
        <Field id="i-category" label="Category" error={err('category')}>
          <select id="i-category" value={form.category} onChange={(e) => set('category', e.currentTarget.value as Category)}>
            {CATEGORIES.map((c) => <option key={c} value={c}>{humanizeEnum(c)}</option>)}
          </select>
        </Field>
        <Field id="i-protocol" label="Protocol" error={err('protocol')}>
          <select id="i-protocol" value={form.protocol} onChange={(e) => set('protocol', e.currentTarget.value as Protocol)}>
            {PROTOCOLS.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </Field>
        <Field id="i-status" label="Status" error={err('status')}>
          <select id="i-status" value={form.status} onChange={(e) => set('status', e.currentTarget.value as IntegrationStatus)}>
            {STATUSES.map((s) => <option key={s} value={s}>{humanizeEnum(s)}</option>)}
          </select>
        </Field>
        <Field id="i-tags" label="Tags" hint="Comma-separated." error={err('tags')}>
          <input id="i-tags" value={form.tags} onInput={(e) => set('tags', e.currentTarget.value)} placeholder="prod, eu" />
        </Field>
        <Field id="i-timeout" label="Timeout (ms)" hint="100-300000; empty: default 30000." error={err('timeoutMs')}>
          <input id="i-timeout" inputMode="numeric" value={form.timeoutMs} onInput={(e) => set('timeoutMs', e.currentTarget.value)} />
        </Field>
        <div class="field checkbox-field">
          <input id="i-enabled" type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />
          <label for="i-enabled">Enabled (calls go through)</label>
        </div>
      </div>
      <Field id="i-description" label="Description" error={err('description')}>
        <textarea id="i-description" rows={2} value={form.description} onInput={(e) => set('description', e.currentTarget.value)} />
      </Field>
      <fieldset>
        <legend>Connection check (what “Test connection” sends)</legend>
        <div class="form-grid">
          <Field id="i-check-method" label="Method">
            <select id="i-check-method" value={form.checkMethod} onChange={(e) => set('checkMethod', e.currentTarget.value as HttpMethod)}>
              {METHODS.map((m) => <option key={m} value={m}>{m}</option>)}
            </select>
          </Field>
          <Field id="i-check-path" label="Path" hint="Relative to the base URL." error={err('checkPath', 'connectionCheck')}>
            <input id="i-check-path" value={form.checkPath} onInput={(e) => set('checkPath', e.currentTarget.value)} />
          </Field>
          <Field id="i-check-status" label="Expected statuses" hint="Comma-separated; empty: any 2xx." error={err('checkStatus')}>
            <input id="i-check-status" value={form.checkStatus} onInput={(e) => set('checkStatus', e.currentTarget.value)} placeholder="200, 204" />
          </Field>
        </div>
      </fieldset>
      <div class="form-grid">
        <Field id="i-headers" label="Extra headers (JSON object of strings, no credentials)" error={err('headers')}>
          <textarea id="i-headers" class="mono" rows={4} value={form.headers} onInput={(e) => set('headers', e.currentTarget.value)} placeholder={'{ "X-Team": "core" }'} />
        </Field>
        <Field id="i-config" label="Config (JSON object)" error={err('config')}>
          <textarea id="i-config" class="mono" rows={4} value={form.config} onInput={(e) => set('config', e.currentTarget.value)} placeholder={'{ "site": "acme" }'} />
        </Field>
      </div>
      {!existing ? (
        <fieldset class="health-check">
          <legend>Health check (optional)</legend>
          <div class="field checkbox-field">
            <input id="i-hc-on" type="checkbox" checked={withCheck} onChange={(e) => setWithCheck(e.currentTarget.checked)} />
            <label for="i-hc-on">Check this integration on a schedule (otherwise health comes from real calls only)</label>
          </div>
          {withCheck ? (
            <HealthCheckFields
              form={check}
              set={setCheckField}
              prefix="i-hc"
              error={(k) => checkProblems[k] ?? (serverCheckField === k ? serverError?.message : null)}
            />
          ) : null}
        </fieldset>
      ) : null}
      <div class="field checkbox-field">
        <input id="i-abs" type="checkbox" checked={form.allowAbsoluteUrls} onChange={(e) => set('allowAbsoluteUrls', e.currentTarget.checked)} />
        <label for="i-abs">Allow absolute URLs in the API explorer (still checked by the SSRF guard)</label>
      </div>
      <div class="row">
        <button class="primary" type="submit" disabled={state.fetching}>{existing ? 'Save changes' : 'Create integration'}</button>
        <a class="button" href={existing ? href({ name: 'integration', id: existing.id, tab: 'overview' }) : href({ name: 'integrations' })}>Cancel</a>
      </div>
    </form>
  );
}

export function IntegrationCreate() {
  const { canEdit, projects, viewer } = useSession();
  return (
    <>
      <div class="page-head">
        <p class="crumbs"><a href={href({ name: 'integrations' })}>Integrations</a> / <a href={href({ name: 'integration-new' })}>New integration</a> /</p>
        <h1>New custom integration</h1>
        <p class="muted">Any REST API, configured by hand. <a href={href({ name: 'integration-new' })}>Start from a template instead</a>.</p>
      </div>
      {!canEdit ? (
        <p>Your token is read-only (VIEWER): creating integrations needs EDITOR or ADMIN.</p>
      ) : projects.length === 0 && !viewer.project ? (
        <NoProjectYet />
      ) : (
        <IntegrationForm existing={null} onSaved={(id) => navigate(href({ name: 'integration', id, tab: 'overview' }))} />
      )}
    </>
  );
}


function NoProjectYet() {
  return (
    <div>
      <p>Integrations live in a project, and there is none yet. Create one first:</p>
      <CreateProjectForm />
    </div>
  );
}
