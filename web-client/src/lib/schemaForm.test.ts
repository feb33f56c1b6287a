import { describe, expect, it } from 'vitest';
import { formOf, initialValues, labelOf, placeholderOf, problemsOf, problemsUnder, toValue } from './schemaForm';

const schema = {
  type: 'object',
  required: ['baseUrl', 'site'],
  additionalProperties: false,
  properties: {
    baseUrl: { type: 'string', format: 'uri', pattern: '^https?://', description: 'Where the API lives' },
    site: { type: 'string', minLength: 2, maxLength: 10 },
    team: { type: 'string', enum: ['core', 'edge'], default: 'core' },
    pageSize: { type: 'integer', minimum: 1, maximum: 50 },
    ratio: { type: 'number', exclusiveMaximum: 1 },
    verbose: { type: 'boolean' },
    scopes: { type: 'array', items: { type: 'string' } },
    extra: { type: 'object' },
    version: { const: 'v2' },
    region: { type: 'string', default: 'eu' },
  },
};

describe('formOf', () => {
  const form = formOf(schema, { example: { site: 'acme', baseUrl: 'https://x.test' } });
  const field = (k: string) => form.fields.find((f) => f.key === k)!;

  it('turns each property into a typed field', () => {
    expect(form.open).toBe(false);
    expect(form.fields.map((f) => [f.key, f.kind])).toEqual([
      ['baseUrl', 'string'], ['site', 'string'], ['team', 'enum'], ['pageSize', 'integer'], ['ratio', 'number'],
      ['verbose', 'boolean'], ['scopes', 'list'], ['extra', 'json'], ['version', 'string'], ['region', 'string'],
    ]);
    expect(field('baseUrl')).toMatchObject({ required: true, label: 'Base URL', description: 'Where the API lives', format: 'uri' });
    expect(field('team')).toMatchObject({ required: false, options: ['core', 'edge'], defaultValue: 'core' });
    expect(field('pageSize')).toMatchObject({ minimum: 1, maximum: 50 });
    expect(field('version').constValue).toBe('v2');
    expect(placeholderOf(field('site'))).toBe('e.g. acme');
    expect(placeholderOf(field('region'))).toBe('default: eu');
  });

  it('marks credential fields, writeOnly and password formats secret', () => {
    const creds = formOf({ type: 'object', properties: { token: { type: 'string' } } }, { secrets: true });
    expect(creds.fields[0].secret).toBe(true);
    const config = formOf({ type: 'object', properties: { a: { type: 'string', writeOnly: true }, b: { type: 'string', format: 'password' }, c: { type: 'string' } } });
    expect(config.fields.map((f) => f.secret)).toEqual([true, true, false]);
    // Example values of secrets are never shown.
    expect(formOf({ type: 'object', properties: { token: { type: 'string' } } }, { secrets: true, example: { token: 'abc' } }).fields[0].example).toBeUndefined();
  });

  it('labels keys readably', () => {
    expect(labelOf('apiVersion')).toBe('API version');
    expect(labelOf('instance_url')).toBe('Instance URL');
    expect(labelOf('accountSid')).toBe('Account SID');
  });
});

describe('toValue', () => {
  const form = formOf(schema);

  it('fills defaults and consts but never examples', () => {
    const v = initialValues(form);
    expect(v.team).toBe('"core"');
    expect(v.region).toBe('eu');
    expect(v.version).toBe('v2');
    expect(v.baseUrl).toBe('');
    expect(v.verbose).toBe(false);
  });

  it('reports every problem at its field', () => {
    const { errors } = toValue(form, { ...initialValues(form), baseUrl: 'ftp://x', site: 'a', pageSize: '0', ratio: '1', extra: '{nope' });
    expect(errors).toEqual({
      baseUrl: 'must match ^https?://',
      site: 'must be at least 2 characters',
      pageSize: 'must be at least 1',
      ratio: 'must be less than 1',
      extra: expect.stringMatching(/^is not valid JSON/),
    });
    expect(toValue(form, { ...initialValues(form), site: 'acme' }).errors).toEqual({ baseUrl: 'is required' });
    expect(toValue(form, { ...initialValues(form), baseUrl: 'https://a', site: 'acme', pageSize: '2.5' }).errors).toEqual({ pageSize: 'must be a whole number' });
    expect(toValue(form, { ...initialValues(form), baseUrl: 'https://a', site: 'acme', pageSize: 'ten' }).errors).toEqual({ pageSize: 'must be a number' });
    expect(toValue(form, { ...initialValues(form), baseUrl: 'https://a', site: 'acme', team: '"other"' }).errors).toEqual({ team: 'must be one of the listed values' });
  });

  it('types the values and leaves empty optional fields to the server default', () => {
    const { value, errors } = toValue(form, {
      ...initialValues(form), baseUrl: ' https://api.test ', site: 'acme', team: '"edge"', pageSize: '25', ratio: '0.5',
      verbose: true, scopes: 'read, write\nadmin', extra: '{"a": 1}', region: '',
    });
    expect(errors).toEqual({});
    expect(value).toEqual({
      baseUrl: 'https://api.test', site: 'acme', team: 'edge', pageSize: 25, ratio: 0.5, verbose: true,
      scopes: ['read', 'write', 'admin'], extra: { a: 1 }, version: 'v2',
    });
  });

  it('keeps secrets exactly as typed (no trimming)', () => {
    const creds = formOf({ type: 'object', required: ['token'], properties: { token: { type: 'string' } } }, { secrets: true });
    const padded = ` ${Math.random().toString(36).slice(2)} `;
    expect(toValue(creds, { token: padded }).value).toEqual({ token: padded });
    expect(toValue(creds, { token: '' }).errors).toEqual({ token: 'is required' });
  });
});

describe('server problems', () => {
  const error = {
    graphQLErrors: [{
      message: '4 problems: …',
      extensions: {
        code: 'BAD_USER_INPUT',
        field: 'input.config',
        problems: [
          { field: 'input.config', message: '"baseUrl" is a required property' },
          { field: 'input.config.pageSize', message: '"3" is not of type "integer"' },
          { field: 'input.config["odd-key"]', message: 'bad' },
          { field: 'input.credentials', message: 'must be a JSON object' },
          { field: 'input.operations[0].path', message: "must start with '/'" },
          { field: 'input.operations[1].parameters[0].name', message: 'duplicate' },
          { field: 'input.healthCheck.operation', message: 'operation "ping" is not in operations' },
        ],
      },
    }],
  };

  it('reads extensions.problems, or field and message for a single problem', () => {
    expect(problemsOf(error)).toHaveLength(7);
    expect(problemsOf({ graphQLErrors: [{ message: 'must not be empty', extensions: { code: 'BAD_USER_INPUT', field: 'input.name' } }] }))
      .toEqual([{ field: 'input.name', message: 'must not be empty' }]);
    expect(problemsOf({ graphQLErrors: [{ message: 'no', extensions: { code: 'FORBIDDEN' } }] })).toEqual([]);
    expect(problemsOf(null)).toEqual([]);
  });

  it('maps paths onto form fields, a missing required property onto that property', () => {
    expect(problemsUnder(problemsOf(error), 'input.config')).toEqual({
      baseUrl: ['is required'],
      pageSize: ['"3" is not of type "integer"'],
      'odd-key': ['bad'],
    });
    expect(problemsUnder(problemsOf(error), 'input.credentials')).toEqual({ '': ['must be a JSON object'] });
    const top = problemsUnder(problemsOf(error), 'input');
    expect(top.operations).toEqual(["[0].path: must start with '/'", '[1].parameters[0].name: duplicate']);
    expect(top.healthCheck).toEqual(['operation: operation "ping" is not in operations']);
    expect(top.config).toEqual(['baseUrl is required', 'pageSize: "3" is not of type "integer"', '["odd-key"]: bad']);
  });
});
