import { describe, expect, it } from 'vitest';
import { canTestBeforeSave, credentialMode, oauthOutcome, oauthReturnUrl, renderWithConfig, stepForProblems } from './wizard';
import { parseBatchLines } from './forms';
import { blankEditor, editorFromTemplate, editorToInput } from './templateEditor';
import { orderChecks } from '../components/Readiness';

describe('wizard', () => {
  it('chooses how credentials are given for each auth kind', () => {
    expect(credentialMode(['BEARER', 'OAUTH2'], 'BEARER')).toBe('schema');
    expect(credentialMode(['BEARER', 'OAUTH2'], 'OAUTH2')).toBe('oauth-client');
    expect(credentialMode(['OAUTH2', 'BEARER'], 'OAUTH2')).toBe('oauth');
    expect(credentialMode(['OAUTH2', 'BEARER'], 'BEARER')).toBe('later');
    expect(credentialMode(['NONE', 'API_KEY'], 'NONE')).toBe('none');
    expect(canTestBeforeSave('oauth')).toBe(false);
    expect(canTestBeforeSave('schema')).toBe(true);
  });

  it('sends server problems back to the step that can fix them', () => {
    const p = (field: string) => [{ field, message: 'x' }];
    expect(stepForProblems(p('input.config.site'))).toBe('settings');
    expect(stepForProblems(p('input.config'))).toBe('settings');
    expect(stepForProblems(p('input.name'))).toBe('settings');
    expect(stepForProblems(p('input.credentials.token'))).toBe('credentials');
    expect(stepForProblems(p('input.templateId'))).toBe('template');
    expect(stepForProblems(p('input.testConnection'))).toBe('review');
    expect(stepForProblems([])).toBe('review');
    // The first step with a problem wins.
    expect(stepForProblems([...p('input.credentials.token'), ...p('input.config.site')])).toBe('settings');
  });

  it('renders config placeholders and reads the OAuth return', () => {
    expect(renderWithConfig('https://login.microsoftonline.com/{{config.tenant}}/oauth2/v2.0/token', { tenant: 'acme' }))
      .toBe('https://login.microsoftonline.com/acme/oauth2/v2.0/token');
    expect(oauthReturnUrl('http://127.0.0.1:8080/', 'int_1')).toBe('http://127.0.0.1:8080/integrations/int_1');
    expect(oauthOutcome('?oauth=connected')).toEqual({ ok: true, reason: null });
    expect(oauthOutcome('?oauth=error&reason=access_denied')).toEqual({ ok: false, reason: 'access_denied' });
    expect(oauthOutcome('')).toBeNull();
  });
});

describe('batch lines', () => {
  it('parses METHOD /path with an optional JSON body and reports bad lines', () => {
    expect(parseBatchLines('GET /a\n\n# comment\npost /b {"x": 1}')).toEqual({
      calls: [{ method: 'GET', path: '/a' }, { method: 'POST', path: '/b', body: { x: 1 } }],
      errors: [],
    });
    expect(parseBatchLines('GET /a {"x":1}\nFETCH /b\nPOST /c {bad\nnothing').errors).toEqual([
      'Line 1: GET takes no body',
      'Line 2: FETCH is not one of GET, POST, PUT, PATCH, DELETE, HEAD',
      expect.stringMatching(/^Line 3: the body is not JSON/),
      'Line 4: write METHOD /path',
    ]);
    expect(parseBatchLines('').errors).toEqual(['Write at least one call']);
    expect(parseBatchLines('GET /a\nGET /b\nGET /c', 2).errors).toEqual(['At most 2 calls in one batch (3 given)']);
  });
});

describe('template editor', () => {
  it('starts from a template the server accepts in shape', () => {
    const { input, errors } = editorToInput({ ...blankEditor('prj_1'), slug: 'x', name: 'X' });
    expect(errors).toEqual({});
    expect(input.authKinds).toEqual(['NONE']);
    expect((input.operations as { name: string }[])[0].name).toBe('health');
    expect(input.credentialMapping).toBeUndefined();
  });

  it('reports unreadable JSON and missing required parts at their field', () => {
    const state = blankEditor('prj_1');
    state.json.operations = '[{';
    state.json.healthCheck = ' ';
    state.authKinds = [];
    const { errors } = editorToInput(state);
    expect(Object.keys(errors).sort()).toEqual(['authKinds', 'healthCheck', 'operations']);
    expect(errors.healthCheck).toBe('is required');
    expect(errors.operations).toMatch(/^is not valid JSON/);
  });

  it('turns a stored version back into input JSON (lowercase locations, no nulls)', () => {
    const stored = {
      id: 'tpl_1', slug: 's', name: 'S', description: null, category: 'CUSTOM', protocol: 'REST', icon: null, docsUrl: null,
      authKinds: ['NONE'], configSchema: { type: 'object' }, credentialSchema: { type: 'object' }, credentialMapping: null,
      exampleConfig: {}, baseUrl: 'https://x', headers: {}, webhookEvents: ['a'], project: { id: 'prj_1', name: 'P' },
      operations: [{
        __typename: 'TemplateOperation', name: 'list', description: null, method: 'GET', path: '/l', body: null,
        parameters: [{ __typename: 'TemplateParameter', name: 'page', in: 'QUERY', required: false, schema: { type: 'integer' }, description: null }],
        pagination: { __typename: 'TemplatePagination', style: 'PAGE', itemsPointer: '/items', pageParam: 'page', firstPage: 1, cursorParam: null, nextCursorPointer: null, nextCursorFromLastItem: null, offsetParam: null, limitParam: null, totalPointer: null, xml: null },
      }],
      healthCheck: { __typename: 'TemplateHealthCheck', operation: 'list', expectedStatus: [200], maxLatencyMs: null },
      rateLimit: null, oauth2: { __typename: 'TemplateOAuth2', authorizeUrl: 'https://a', tokenUrl: 'https://t', scopes: [] }, incomingWebhooks: null,
    } as unknown as Parameters<typeof editorFromTemplate>[0];
    const state = editorFromTemplate(stored);
    expect(JSON.parse(state.json.operations)).toEqual([{
      name: 'list', method: 'GET', path: '/l',
      parameters: [{ name: 'page', in: 'query', required: false, schema: { type: 'integer' } }],
      pagination: { style: 'PAGE', itemsPointer: '/items', pageParam: 'page', firstPage: 1 },
    }]);
    expect(JSON.parse(state.json.healthCheck)).toEqual({ operation: 'list', expectedStatus: [200] });
    expect(JSON.parse(state.json.oauth2)).toEqual({ authorizeUrl: 'https://a', tokenUrl: 'https://t', scopes: [] });
    expect(state.json.headers).toBe('');
    expect(state.json.exampleCredentials).toBe('');
    expect(state.webhookEvents).toBe('a');
  });
});

describe('readiness', () => {
  it('lists failed checks first, the most severe first', () => {
    const checks = [
      { name: 'retry_policy', passed: true, severity: 'INFO' },
      { name: 'rate_limit', passed: false, severity: 'INFO' },
      { name: 'https', passed: false, severity: 'CRITICAL' },
      { name: 'credentials', passed: false, severity: 'WARNING' },
      { name: 'health_check', passed: true, severity: 'WARNING' },
    ];
    expect(orderChecks(checks).map((c) => c.name)).toEqual(['https', 'credentials', 'rate_limit', 'health_check', 'retry_policy']);
  });
});
