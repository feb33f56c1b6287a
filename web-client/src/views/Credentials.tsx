// Credentials: status (never values) and a write-only form for setCredentials.
import { useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { SetCredentialsMutation, StartOAuthMutation } from '../api/operations';
import type { ApiKeyLocation, CredentialsInput, IntegrationQuery } from '../gql/graphql';
import { useSession } from '../context';
import { ErrorBox, Field } from '../components/ui';
import { parseJsonObject } from '../lib/forms';
import { formatDateTime, formatRelative, humanizeEnum } from '../lib/format';
import { href } from '../lib/router';
import { oauthReturnUrl, renderWithConfig } from '../lib/wizard';

type Integration = NonNullable<IntegrationQuery['integration']>;

type Kind = 'apiKey' | 'bearer' | 'basic' | 'custom' | 'none';

export function CredentialsPanel({ integration }: { integration: NonNullable<IntegrationQuery['integration']> }) {
  const { canEdit } = useSession();
  return (
    <div class="grid-2">
      <div class="stack">
        <CredentialsStatus integration={integration} />
        {canEdit && integration.template?.oauth2 ? <OAuthConnect integration={integration} /> : null}
      </div>
      {canEdit ? <CredentialsForm integrationId={integration.id} /> : null}
    </div>
  );
}

function CredentialsForm({ integrationId }: { integrationId: string }) {
  const [kind, setKind] = useState<Kind>('bearer');
  const [v, setV] = useState<Record<string, string>>({ in: 'HEADER', name: 'X-Api-Key' });
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [state, save] = useMutation(SetCredentialsMutation);
  const set = (k: string, value: string) => setV((prev) => ({ ...prev, [k]: value }));
  const submit = async (e: Event) => {
    e.preventDefault();
    setProblem(null);
    setSaved(false);
    let credentials: CredentialsInput;
    switch (kind) {
      case 'apiKey':
        credentials = { apiKey: { value: v.value ?? '', in: v.in as ApiKeyLocation, name: v.name ?? '' } };
        break;
      case 'bearer':
        credentials = { bearer: { token: v.token ?? '' } };
        break;
      case 'basic':
        credentials = { basic: { username: v.username ?? '', password: v.password ?? '' } };
        break;
      case 'custom': {
        const h = parseJsonObject(v.headers ?? '', 'Headers');
        if (h.error || !h.value) {
          setProblem(h.error ?? 'Headers are required');
          return;
        }
        credentials = { custom: { headers: h.value } };
        break;
      }
      case 'none':
        credentials = { none: true };
        break;
    }
    const r = await save({ input: { integrationId, credentials } });
    if (r.data) {
      setSaved(true);
      setV({ in: 'HEADER', name: v.name ?? 'X-Api-Key' });
    }
  };
  const secret = (id: string, key: string, label: string) => (
    <Field id={id} label={label}>
      <input id={id} type="password" autoComplete="new-password" value={v[key] ?? ''} onInput={(e) => set(key, e.currentTarget.value)} />
    </Field>
  );
  return (
    <form class="form panel" onSubmit={submit} aria-label="Set credentials">
      <h2>Set credentials</h2>
      <p class="muted">Replaces the stored credentials. Values are sealed and never shown again. OAuth2 is set through the API (GraphiQL).</p>
      <Field id="c-kind" label="Kind">
        <select id="c-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as Kind)}>
          <option value="bearer">Bearer token</option>
          <option value="apiKey">API key</option>
          <option value="basic">HTTP Basic</option>
          <option value="custom">Custom headers</option>
          <option value="none">None (remove)</option>
        </select>
      </Field>
      {kind === 'bearer' ? secret('c-token', 'token', 'Token') : null}
      {kind === 'apiKey' ? (
        <>
          {secret('c-value', 'value', 'Key')}
          <div class="form-grid">
            <Field id="c-in" label="Sent in">
              <select id="c-in" value={v.in} onChange={(e) => set('in', e.currentTarget.value)}>
                <option value="HEADER">Header</option>
                <option value="QUERY">Query parameter</option>
              </select>
            </Field>
            <Field id="c-name" label="Header or parameter name">
              <input id="c-name" value={v.name ?? ''} onInput={(e) => set('name', e.currentTarget.value)} />
            </Field>
          </div>
        </>
      ) : null}
      {kind === 'basic' ? (
        <>
          <Field id="c-user" label="Username">
            <input id="c-user" autoComplete="off" value={v.username ?? ''} onInput={(e) => set('username', e.currentTarget.value)} />
          </Field>
          {secret('c-pass', 'password', 'Password')}
        </>
      ) : null}
      {kind === 'custom' ? (
        <Field id="c-headers" label="Headers (JSON object of strings)" error={problem}>
          <textarea id="c-headers" class="mono" rows={3} value={v.headers ?? ''} onInput={(e) => set('headers', e.currentTarget.value)} />
        </Field>
      ) : null}
      <ErrorBox error={state.error} />
      {saved ? <p role="status" class="ok-text">Credentials saved.</p> : null}
      <button type="submit" class={kind === 'none' ? 'danger' : 'primary'} disabled={state.fetching}>
        {kind === 'none' ? 'Remove credentials' : 'Save credentials'}
      </button>
    </form>
  );
}

export function CredentialsStatus({ integration }: { integration: Integration }) {
  const c = integration.credentials;
  return (
    <section class="panel" aria-labelledby="cred-title">
      <h2 id="cred-title">Credentials</h2>
      <p class="muted">Write-only: patchbay shows which fields are set, never their values.</p>
      {c ? (
        <dl class="props" data-testid="credentials-status">
          <dt>Kind</dt><dd>{humanizeEnum(c.kind)}</dd>
          <dt>Fields set</dt><dd>{c.setFields.length ? c.setFields.map((f) => <span class="tag" key={f}>{f}</span>) : '—'}</dd>
          <dt>Updated</dt><dd>{formatDateTime(c.updatedAt)}</dd>
          {c.expiresAt ? <><dt>Expires</dt><dd>{formatDateTime(c.expiresAt)} ({formatRelative(c.expiresAt)})</dd></> : null}
          <dt>Key</dt><dd><code>{c.keyId}</code></dd>
          {c.refreshError ? <><dt>Refresh failed</dt><dd class="bad-text">{c.refreshError} ({formatRelative(c.refreshFailedAt)})</dd></> : null}
        </dl>
      ) : (
        <p data-testid="credentials-status">No credentials stored (auth: {humanizeEnum(integration.authKind)}).</p>
      )}
      <a href={href({ name: 'integration', id: integration.id, tab: 'credentials' })}>Manage credentials</a>
    </section>
  );
}


/**
 * OAuth2 for an integration whose template supports it: store the OAuth client (id and
 * secret; the token URL and scopes come from the template), then "Connect with OAuth"
 * (startOAuth) sends the browser to the provider, which returns to this integration.
 */
function OAuthConnect({ integration }: { integration: Integration }) {
  const oauth2 = integration.template!.oauth2!;
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [setState, setCreds] = useMutation(SetCredentialsMutation);
  const [startState, start] = useMutation(StartOAuthMutation);
  const hasClient = integration.credentials?.kind === 'OAUTH2';
  const connect = async () => {
    const r = await start({ input: { integrationId: integration.id, redirectUri: oauthReturnUrl(location.origin, integration.id) } });
    if (r.data) location.assign(r.data.startOAuth.authorizeUrl);
  };
  const saveClient = async (e: Event) => {
    e.preventDefault();
    const config = (integration.config ?? {}) as Record<string, unknown>;
    const r = await setCreds({
      input: {
        integrationId: integration.id,
        credentials: { oauth2: { clientId: clientId.trim(), clientSecret, tokenUrl: renderWithConfig(oauth2.tokenUrl, config), scopes: oauth2.scopes } },
      },
    });
    if (r.data) { setClientSecret(''); await connect(); }
  };
  return (
    <section class="panel" aria-labelledby="oauth-title">
      <h2 id="oauth-title">OAuth2</h2>
      <p class="muted">{integration.template!.name} supports OAuth2: patchbay stores the provider's tokens and refreshes them.</p>
      {hasClient ? (
        <button type="button" class="primary" onClick={connect} disabled={startState.fetching}>Connect with OAuth</button>
      ) : null}
      <form class="form" onSubmit={saveClient} aria-label="OAuth client">
        <p class="small">{hasClient ? 'Or replace the OAuth client:' : 'First the OAuth client your provider issued:'}</p>
        <div class="form-grid">
          <Field id="oa-client" label="Client ID">
            <input id="oa-client" autoComplete="off" value={clientId} onInput={(e) => setClientId(e.currentTarget.value)} required />
          </Field>
          <Field id="oa-secret" label="Client secret">
            <input id="oa-secret" type="password" autoComplete="new-password" value={clientSecret} onInput={(e) => setClientSecret(e.currentTarget.value)} />
          </Field>
        </div>
        <button type="submit" disabled={setState.fetching || !clientId.trim()}>Save client and connect with OAuth</button>
      </form>
      <ErrorBox error={setState.error} />
      <ErrorBox error={startState.error} />
    </section>
  );
}
