import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { Provider } from '@urql/preact';
import { CombinedError, type Client } from '@urql/core';
import { delay, fromValue, never, pipe } from 'wonka';
import { SessionContext, type Session } from '../context';
import { IntegrationWizard } from './IntegrationWizard';

afterEach(cleanup);
// jsdom has no scrolling; navigate() scrolls to the top.
window.scrollTo = () => {};

const template = {
  id: 'tpl_1', slug: 'acme', name: 'Acme', description: 'The Acme API', category: 'CUSTOM', protocol: 'REST', icon: null, docsUrl: null,
  version: 3, state: 'PUBLISHED', current: true, supportLevel: 'COMMUNITY', builtIn: false, authKinds: ['BEARER', 'OAUTH2'],
  configSchema: {
    type: 'object', required: ['baseUrl'],
    properties: { baseUrl: { type: 'string', pattern: '^https?://' }, region: { type: 'string', enum: ['eu', 'us'], default: 'eu' } },
  },
  credentialSchema: { type: 'object', required: ['token'], properties: { token: { type: 'string', description: 'API token' } } },
  credentialMapping: { kind: 'BEARER', token: '{{credentials.token}}' }, exampleConfig: { baseUrl: 'https://acme.test' },
  baseUrl: '{{config.baseUrl}}', headers: {}, webhookEvents: [], usageCount: 0, createdBy: 'x', createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z', publishedAt: '2026-01-01T00:00:00Z', deprecatedAt: null, project: { id: 'prj_1', name: 'Main' },
  operations: [{ name: 'ping', description: null, method: 'GET', path: '/ping', body: null, parameters: [], pagination: null }],
  healthCheck: { operation: 'ping', expectedStatus: [200], maxLatencyMs: null },
  rateLimit: null, oauth2: { authorizeUrl: 'https://acme.test/authorize', tokenUrl: 'https://acme.test/token', scopes: [] },
  incomingWebhooks: null, versions: [], sharing: null,
};

function setup(mutationAnswers: unknown[]) {
  const executeMutation = vi.fn(() => fromValue(mutationAnswers.shift()));
  const client = {
    // The template arrives a little later, as over the network.
    executeQuery: vi.fn(() => pipe(fromValue({ data: { template } }), delay(20))),
    executeMutation,
    executeSubscription: vi.fn(() => never),
  } as unknown as Client;
  const session = {
    client, token: 'pbk_x', viewer: { tokenId: 't', name: 'me', role: 'EDITOR', project: null },
    projects: [{ id: 'prj_1', name: 'Main', slug: 'main', description: null, createdAt: '2026-01-01T00:00:00Z' }],
    projectId: 'prj_1', setProjectId() {}, reloadProjects() {}, liveState: 'connected', logout() {}, canEdit: true, isAdmin: false,
  } as unknown as Session;
  render(
    <SessionContext.Provider value={session}>
      <Provider value={client}><IntegrationWizard search="?template=tpl_1" /></Provider>
    </SessionContext.Provider>,
  );
  return executeMutation;
}

const next = (name: RegExp) => fireEvent.click(screen.getByRole('button', { name }));

describe('IntegrationWizard', () => {
  it('walks settings → credentials → test and save, checking each step', async () => {
    const execute = setup([{ data: { createIntegration: { integration: { id: 'int_9', name: 'Acme', version: 1, authKind: 'BEARER', credentials: null } } } }]);
    await screen.findByRole('heading', { name: 'Settings' });
    // The step's heading takes focus (keyboard and screen reader users land on it).
    await waitFor(() => expect(document.activeElement?.textContent).toBe('Settings'));
    expect(screen.getByRole('list', { name: 'Steps' }).querySelector('[aria-current="step"]')?.textContent).toBe('2. Settings');
    next(/Next: credentials/);
    expect(await screen.findByText('is required')).toBeTruthy();
    fireEvent.input(screen.getByLabelText('Base URL *'), { target: { value: 'https://acme.test' } });
    next(/Next: credentials/);
    await screen.findByRole('heading', { name: 'Credentials' });
    const token = screen.getByLabelText('Token *') as HTMLInputElement;
    expect(token.type).toBe('password');
    next(/Next: test and save/);
    expect(await screen.findByText('is required')).toBeTruthy();
    // Generated per run: tests never carry a literal secret.
    const secret = `tok-${Math.random().toString(36).slice(2)}`;
    fireEvent.input(token, { target: { value: secret } });
    next(/Next: test and save/);
    await screen.findByRole('heading', { name: 'Test and save' });
    // The review names the credential fields, never their values.
    expect(document.body.textContent).not.toContain(secret);
    expect(screen.getByText('token')).toBeTruthy();
    next(/Test connection and save/);
    await waitFor(() => expect(execute).toHaveBeenCalledTimes(1));
    const input = (execute.mock.calls[0] as unknown as [{ variables: { input: Record<string, unknown> } }])[0].variables.input;
    expect(input).toMatchObject({
      projectId: 'prj_1', templateId: 'tpl_1', name: 'Acme', config: { baseUrl: 'https://acme.test', region: 'eu' },
      credentials: { token: secret }, testConnection: true,
    });
    await waitFor(() => expect(location.pathname).toBe('/integrations/int_9'));
  });

  it('sends server problems back to their step and field', async () => {
    const refused = new CombinedError({
      graphQLErrors: [{
        message: '2 problems',
        extensions: {
          code: 'BAD_USER_INPUT', field: 'input.config.baseUrl',
          problems: [
            { field: 'input.config.baseUrl', message: 'the base URL made from config is not valid' },
            { field: 'input.credentials.token', message: 'is too short' },
          ],
        },
      }],
    });
    setup([{ error: refused }]);
    await screen.findByRole('heading', { name: 'Settings' });
    fireEvent.input(screen.getByLabelText('Base URL *'), { target: { value: 'https://acme.test' } });
    next(/Next: credentials/);
    fireEvent.input(await screen.findByLabelText('Token *'), { target: { value: 'x' } });
    next(/Next: test and save/);
    fireEvent.click(await screen.findByRole('button', { name: /Test connection and save/ }));
    await screen.findByRole('heading', { name: 'Settings' });
    expect(screen.getByText('the base URL made from config is not valid')).toBeTruthy();
    next(/Next: credentials/);
    expect(await screen.findByText('is too short')).toBeTruthy();
  });

  it('offers OAuth2 for templates that support it: no test before saving', async () => {
    setup([]);
    await screen.findByRole('heading', { name: 'Settings' });
    fireEvent.input(screen.getByLabelText('Base URL *'), { target: { value: 'https://acme.test' } });
    next(/Next: credentials/);
    fireEvent.change(await screen.findByLabelText('Authentication'), { target: { value: 'OAUTH2' } });
    expect(screen.getByLabelText('OAuth client ID *')).toBeTruthy();
    expect(screen.getByText(/Connect with OAuth/)).toBeTruthy();
    fireEvent.input(screen.getByLabelText('OAuth client ID *'), { target: { value: 'id' } });
    fireEvent.input(screen.getByLabelText('OAuth client secret *'), { target: { value: 'secret' } });
    next(/Next: test and save/);
    expect(await screen.findByRole('button', { name: 'Save and connect with OAuth' })).toBeTruthy();
    expect((screen.getByLabelText(/Test the connection first/) as HTMLInputElement).disabled).toBe(true);
  });
});
