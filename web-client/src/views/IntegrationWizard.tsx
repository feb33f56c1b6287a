// New integration from a template: pick one from the catalog → settings (a form generated
// from its configSchema) → credentials (its credentialSchema, or "Connect with OAuth") → test
// the connection and save (createIntegration with templateId; `testConnection` refuses to save
// when the template's health check fails). The hand-made form stays at /integrations/new/custom.
import type { RefObject } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import {
  CreateIntegrationFromTemplateMutation, SetCredentialsMutation, StartOAuthMutation, TemplateQuery,
} from '../api/operations';
import type { TemplateAuthKind, TemplateQuery as TemplateData } from '../gql/graphql';
import { useSession } from '../context';
import { ErrorBox, Field, Loading } from '../components/ui';
import { SchemaFields } from '../components/SchemaFields';
import { TemplateCatalog, TemplateIcon, SupportBadge, type TemplateSummary } from './Templates';
import { CreateProjectForm } from './ProjectForm';
import { describeError } from '../lib/errors';
import { prettyJson } from '../lib/format';
import { href, navigate } from '../lib/router';
import { parseTags } from '../lib/filters';
import { formOf, initialValues, problemsOf, problemsUnder, toValue, type FormValues } from '../lib/schemaForm';
import {
  STEP_LABELS, WIZARD_STEPS, canTestBeforeSave, credentialMode, oauthReturnUrl, renderWithConfig, stepForProblems, type WizardStep,
} from '../lib/wizard';
import { authKindLabel } from '../lib/templateEditor';

type Template = NonNullable<TemplateData['template']>;

export function IntegrationWizard({ search }: { search: string }) {
  const { canEdit, projects, viewer } = useSession();
  const templateId = new URLSearchParams(search).get('template');
  return (
    <>
      <div class="page-head">
        <p class="crumbs"><a href={href({ name: 'integrations' })}>Integrations</a> /</p>
        <h1>New integration</h1>
      </div>
      {!canEdit ? (
        <p>Your token is read-only (VIEWER): creating integrations needs EDITOR or ADMIN.</p>
      ) : projects.length === 0 && !viewer.project ? (
        <div>
          <p>Integrations live in a project, and there is none yet. Create one first:</p>
          <CreateProjectForm />
        </div>
      ) : (
        <Wizard key={templateId ?? 'pick'} templateId={templateId} />
      )}
    </>
  );
}

function Stepper({ step, reachable, go }: { step: WizardStep; reachable: (s: WizardStep) => boolean; go(s: WizardStep): void }) {
  return (
    <ol class="steps" aria-label="Steps">
      {WIZARD_STEPS.map((s, i) => (
        <li key={s} aria-current={s === step ? 'step' : undefined} class={s === step ? 'current' : WIZARD_STEPS.indexOf(step) > i ? 'done' : ''}>
          {reachable(s) && s !== step ? (
            <button type="button" class="link-button" onClick={() => go(s)}>{i + 1}. {STEP_LABELS[s]}</button>
          ) : (
            <span>{i + 1}. {STEP_LABELS[s]}</span>
          )}
        </li>
      ))}
    </ol>
  );
}

function Wizard({ templateId }: { templateId: string | null }) {
  const { projects, projectId: selected, viewer } = useSession();
  const [projectId, setProjectId] = useState(selected ?? viewer.project?.id ?? projects[0]?.id ?? '');
  const [picked, setPicked] = useState<string | null>(templateId);
  const [step, setStep] = useState<WizardStep>(templateId ? 'settings' : 'template');
  const [result] = useQuery({ query: TemplateQuery, variables: { id: picked ?? '' }, pause: !picked });
  const template = picked ? result.data?.template : null;
  const heading = useRef<HTMLHeadingElement>(null);
  const go = (s: WizardStep) => setStep(s);
  // Each step's heading takes focus, also once the chosen template has loaded.
  const loadedId = template?.id;
  useEffect(() => heading.current?.focus(), [step, loadedId]);

  const pick = (t: TemplateSummary) => {
    setPicked(t.id);
    setStep('settings');
  };
  return (
    <>
      <Stepper step={step} go={go} reachable={(s) => s === 'template' || (!!template && WIZARD_STEPS.indexOf(s) <= WIZARD_STEPS.indexOf(step))} />
      {step === 'template' ? (
        <section aria-labelledby="wz-h">
          <h2 id="wz-h" ref={heading} tabIndex={-1}>Choose a template</h2>
          <div class="row space">
            {viewer.project ? <p>Project: <strong>{viewer.project.name}</strong></p> : (
              <div class="field inline">
                <label for="wz-project">Project</label>
                <select id="wz-project" value={projectId} onChange={(e) => setProjectId(e.currentTarget.value)}>
                  {projects.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
                </select>
              </div>
            )}
            <a class="button" href={href({ name: 'integration-new-custom' })}>Custom / any REST API: configure by hand</a>
          </div>
          <TemplateCatalog projectId={projectId || null} publishedOnly onPick={pick} pickLabel="Use" />
        </section>
      ) : !template ? (
        result.error ? <ErrorBox error={result.error} /> : <Loading label="Loading the template…" />
      ) : template.state !== 'PUBLISHED' ? (
        <p>Version {template.version} of {template.name} is {template.state.toLowerCase()}: only a published version can be used. <a href={href({ name: 'template', id: template.id })}>Open the template</a></p>
      ) : (
        <TemplateSteps key={template.id} template={template} projectId={projectId} step={step} go={go} heading={heading} />
      )}
    </>
  );
}

function TemplateSteps({ template, projectId, step, go, heading }: {
  template: Template; projectId: string; step: WizardStep; go(s: WizardStep): void; heading: RefObject<HTMLHeadingElement | null>;
}) {
  const { projects } = useSession();
  const configForm = useMemo(() => formOf(template.configSchema, { example: template.exampleConfig }), [template]);
  const credForm = useMemo(() => formOf(template.credentialSchema, { secrets: true }), [template]);
  const [name, setName] = useState(template.name);
  const [description, setDescription] = useState('');
  const [tags, setTags] = useState('');
  const [config, setConfig] = useState<FormValues>(() => initialValues(configForm));
  const [creds, setCreds] = useState<FormValues>(() => initialValues(credForm));
  const [kind, setKind] = useState<TemplateAuthKind>(template.authKinds[0]);
  const [client2, setClient2] = useState({ clientId: '', clientSecret: '' });
  const mode = credentialMode(template.authKinds, kind);
  const [test, setTest] = useState(canTestBeforeSave(mode));
  useEffect(() => setTest(canTestBeforeSave(mode)), [mode]);
  const [localConfig, setLocalConfig] = useState<Record<string, string>>({});
  const [localCreds, setLocalCreds] = useState<Record<string, string>>({});
  const [nameError, setNameError] = useState<string | null>(null);
  const [createState, create] = useMutation(CreateIntegrationFromTemplateMutation);
  const [, setCredentials] = useMutation(SetCredentialsMutation);
  const [, startOAuth] = useMutation(StartOAuthMutation);
  const [afterSave, setAfterSave] = useState<{ id: string; problem: string | null } | null>(null);
  const problems = useMemo(() => problemsOf(createState.error), [createState.error]);
  const serverConfig = problemsUnder(problems, 'input.config');
  const serverCreds = problemsUnder(problems, 'input.credentials');
  const testFailed = problems.find((p) => p.field === 'input.testConnection');
  const joined = (list?: string[]) => (list?.length ? list.join(' · ') : undefined);
  const configErrors: Record<string, string | undefined> = {};
  for (const f of configForm.fields) configErrors[f.key] = localConfig[f.key] ?? joined(serverConfig[f.key]);
  const credErrors: Record<string, string | undefined> = {};
  for (const f of credForm.fields) credErrors[f.key] = localCreds[f.key] ?? joined(serverCreds[f.key]);
  const project = projects.find((p) => p.id === projectId);

  const checkSettings = (): boolean => {
    const { errors } = toValue(configForm, config);
    setLocalConfig(errors);
    setNameError(name.trim() ? null : 'A name is required');
    const first = !name.trim() ? 'wz-name' : Object.keys(errors)[0] ? `wz-config-${Object.keys(errors)[0]}` : null;
    if (first) document.getElementById(first)?.focus();
    return !first;
  };
  const checkCreds = (): boolean => {
    if (mode === 'schema' || mode === 'oauth') {
      const { errors } = toValue(credForm, creds);
      setLocalCreds(errors);
      const first = Object.keys(errors)[0];
      if (first) document.getElementById(`wz-cred-${first}`)?.focus();
      return !first;
    }
    if (mode === 'oauth-client') {
      const errors: Record<string, string> = {};
      if (!client2.clientId.trim()) errors.clientId = 'is required';
      if (!client2.clientSecret) errors.clientSecret = 'is required';
      setLocalCreds(errors);
      return !Object.keys(errors).length;
    }
    return true;
  };

  const save = async (withTest: boolean) => {
    if (!checkSettings()) return go('settings');
    if (!checkCreds()) return go('credentials');
    const configValue = toValue(configForm, config).value;
    const sendsCreds = mode === 'schema' || mode === 'oauth';
    const r = await create({
      input: {
        projectId,
        templateId: template.id,
        name: name.trim(),
        description: description.trim() || null,
        tags: parseTags(tags),
        config: configValue,
        credentials: sendsCreds && credForm.fields.length ? toValue(credForm, creds).value : null,
        testConnection: withTest,
      },
    });
    if (!r.data) {
      const next = stepForProblems(problemsOf(r.error));
      if (next !== 'review') go(next);
      return;
    }
    const id = r.data.createIntegration.integration.id;
    setCreds(initialValues(credForm)); // secrets leave the page's memory
    if (mode === 'oauth-client' && template.oauth2) {
      const set = await setCredentials({
        input: {
          integrationId: id,
          credentials: {
            oauth2: {
              clientId: client2.clientId.trim(),
              clientSecret: client2.clientSecret,
              tokenUrl: renderWithConfig(template.oauth2.tokenUrl, configValue),
              scopes: template.oauth2.scopes,
            },
          },
        },
      });
      if (set.error) {
        setAfterSave({ id, problem: `Saved, but the OAuth2 client was not stored: ${describeError(set.error)?.message}` });
        return;
      }
    }
    if (mode === 'oauth' || mode === 'oauth-client') {
      const o = await startOAuth({ input: { integrationId: id, redirectUri: oauthReturnUrl(location.origin, id) } });
      if (o.data) {
        // The provider's authorization page; it sends the browser back to the integration.
        location.assign(o.data.startOAuth.authorizeUrl);
        return;
      }
      setAfterSave({ id, problem: `Saved, but OAuth could not start: ${describeError(o.error)?.message}` });
      return;
    }
    navigate(href({ name: 'integration', id, tab: 'overview' }));
  };

  if (afterSave) {
    return (
      <section class="panel">
        <h2 ref={heading} tabIndex={-1}>Integration saved</h2>
        {afterSave.problem ? <div class="error-box" role="alert">{afterSave.problem}</div> : null}
        <p><a href={href({ name: 'integration', id: afterSave.id, tab: 'credentials' })}>Open its credentials</a> to finish connecting.</p>
      </section>
    );
  }

  const summary = (
    <aside class="panel wz-summary" aria-label="Chosen template">
      <div class="row">
        <TemplateIcon icon={template.icon} />
        <strong>{template.name}</strong>
        <SupportBadge level={template.supportLevel} />
        <span class="muted">v{template.version}</span>
      </div>
      <p class="muted small">{template.description}</p>
      <p class="small">Calls <code>{template.baseUrl}</code>; health check <code>{template.healthCheck.operation}</code>.</p>
    </aside>
  );

  return (
    <div class="wz-layout">
      <div>
        {step === 'settings' ? (
          <form class="form" noValidate aria-labelledby="wz-h" onSubmit={(e) => { e.preventDefault(); if (checkSettings()) go('credentials'); }}>
            <h2 id="wz-h" ref={heading} tabIndex={-1}>Settings</h2>
            <div class="form-grid">
              <Field id="wz-name" label="Name" hint={`Unique within ${project?.name ?? 'the project'}, 1-100 characters.`} error={nameError ?? joined(problemsUnder(problems, 'input')['name'])}>
                <input id="wz-name" value={name} onInput={(e) => setName(e.currentTarget.value)} maxLength={100} aria-required="true" />
              </Field>
              <Field id="wz-tags" label="Tags" hint="Comma-separated (optional).">
                <input id="wz-tags" value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
              </Field>
            </div>
            <Field id="wz-description" label="Description" hint="Optional.">
              <textarea id="wz-description" rows={2} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
            </Field>
            <fieldset>
              <legend>{template.name} settings</legend>
              <SchemaFields form={configForm} values={config} errors={configErrors} prefix="wz-config"
                onChange={(k, v) => setConfig((c) => ({ ...c, [k]: v }))} emptyText="This template has no settings." />
              {serverConfig[''] ? <div class="field-error" role="alert">{serverConfig[''].join(' · ')}</div> : null}
            </fieldset>
            <div class="row">
              <button type="button" onClick={() => go('template')}>← Back</button>
              <button type="submit" class="primary">Next: credentials →</button>
            </div>
          </form>
        ) : null}
        {step === 'credentials' ? (
          <form class="form" noValidate aria-labelledby="wz-h" onSubmit={(e) => { e.preventDefault(); if (checkCreds()) go('review'); }}>
            <h2 id="wz-h" ref={heading} tabIndex={-1}>Credentials</h2>
            <p class="muted">Sealed in patchbay's vault when saved; never shown again.</p>
            {template.authKinds.length > 1 ? (
              <Field id="wz-kind" label="Authentication">
                <select id="wz-kind" value={kind} onChange={(e) => { setKind(e.currentTarget.value as TemplateAuthKind); setLocalCreds({}); }}>
                  {template.authKinds.map((k, i) => <option key={k} value={k}>{k === 'OAUTH2' ? 'OAuth2 (connect with the provider)' : authKindLabel(k)}{i === 0 ? ' (default)' : ''}</option>)}
                </select>
              </Field>
            ) : <p>Authentication: <strong>{authKindLabel(kind)}</strong></p>}
            {mode === 'schema' || mode === 'oauth' ? (
              <SchemaFields form={credForm} values={creds} errors={credErrors} prefix="wz-cred"
                onChange={(k, v) => setCreds((c) => ({ ...c, [k]: v }))} emptyText="No credential fields." />
            ) : null}
            {mode === 'oauth-client' ? (
              <div class="form-grid">
                <Field id="wz-cred-clientId" label="OAuth client ID *" error={localCreds.clientId}>
                  <input id="wz-cred-clientId" autoComplete="off" value={client2.clientId} onInput={(e) => setClient2((c) => ({ ...c, clientId: e.currentTarget.value }))} />
                </Field>
                <Field id="wz-cred-clientSecret" label="OAuth client secret *" error={localCreds.clientSecret}>
                  <input id="wz-cred-clientSecret" type="password" autoComplete="new-password" value={client2.clientSecret} onInput={(e) => setClient2((c) => ({ ...c, clientSecret: e.currentTarget.value }))} />
                </Field>
              </div>
            ) : null}
            {mode === 'oauth' || mode === 'oauth-client' ? (
              <p class="info-box">After saving, <strong>Connect with OAuth</strong> sends you to the provider{template.oauth2 ? <> (<code>{new URL(template.oauth2.authorizeUrl.replace(/\{\{[^}]*\}\}/g, 'x')).host}</code>)</> : null} to approve access; you come back to the integration's page.</p>
            ) : null}
            {mode === 'none' ? <p>No credentials: fine for public APIs.</p> : null}
            {mode === 'later' ? <p>The template describes credentials for {authKindLabel(template.authKinds[0])}. Set {authKindLabel(kind)} credentials on the integration's Credentials tab after saving.</p> : null}
            {serverCreds[''] ? <div class="field-error" role="alert">{serverCreds[''].join(' · ')}</div> : null}
            <div class="row">
              <button type="button" onClick={() => go('settings')}>← Back</button>
              <button type="submit" class="primary">Next: test and save →</button>
            </div>
          </form>
        ) : null}
        {step === 'review' ? (
          <section aria-labelledby="wz-h">
            <h2 id="wz-h" ref={heading} tabIndex={-1}>Test and save</h2>
            <dl class="props">
              <dt>Project</dt><dd>{project?.name ?? projectId}</dd>
              <dt>Name</dt><dd>{name}</dd>
              <dt>Template</dt><dd>{template.name} v{template.version}</dd>
              <dt>Settings</dt><dd><pre class="code">{prettyJson(toValue(configForm, config).value)}</pre></dd>
              <dt>Credentials</dt>
              <dd>{mode === 'schema' || mode === 'oauth'
                ? credForm.fields.filter((f) => typeof creds[f.key] === 'string' && creds[f.key]).map((f) => <span class="tag" key={f.key}>{f.key}</span>)
                : mode === 'oauth-client' ? 'OAuth2 client (set after saving)' : mode === 'none' ? 'none' : 'set after saving'}</dd>
            </dl>
            <div class="checkbox-field">
              <input id="wz-test" type="checkbox" checked={test} disabled={!canTestBeforeSave(mode)} onChange={(e) => setTest(e.currentTarget.checked)} />
              <label for="wz-test">Test the connection first ({template.healthCheck.operation}); save only if it passes</label>
            </div>
            {!canTestBeforeSave(mode) ? <p class="muted small">OAuth2 tokens come after saving, so the test runs from the integration's page.</p> : null}
            {testFailed ? (
              <div class="result-box tone-bad" role="alert" data-testid="wizard-test-failed">
                <strong>Connection test failed: nothing was saved.</strong>
                <div>{testFailed.message}</div>
              </div>
            ) : createState.error && stepForProblems(problems) === 'review' ? <ErrorBox error={createState.error} /> : null}
            <div class="row">
              <button type="button" onClick={() => go('credentials')}>← Back</button>
              <button type="button" class="primary" disabled={createState.fetching} onClick={() => void save(test && canTestBeforeSave(mode))}>
                {createState.fetching ? (test ? 'Testing…' : 'Saving…') : mode === 'oauth' || mode === 'oauth-client' ? 'Save and connect with OAuth' : test ? 'Test connection and save' : 'Save integration'}
              </button>
              {testFailed ? <button type="button" onClick={() => void save(false)} disabled={createState.fetching}>Save without testing</button> : null}
            </div>
          </section>
        ) : null}
      </div>
      {summary}
    </div>
  );
}
