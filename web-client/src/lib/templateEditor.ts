// The custom template editor's state: plain fields as text, structured parts as JSON text.
// `editorFromTemplate` turns a stored version back into the input shape (CreateTemplateInput
// takes operations and health checks as JSON with lowercase parameter locations);
// `editorToInput` parses it, reporting each unreadable part at its field.
import type { Category, Protocol, TemplateAuthKind, TemplateQuery } from '../gql/graphql';
import { prettyJson } from './format';

const AUTH_KIND_LABELS: Record<string, string> = {
  NONE: 'None', API_KEY: 'API key', BEARER: 'Bearer token', BASIC: 'HTTP Basic', OAUTH2: 'OAuth2', CUSTOM: 'Custom headers', AWS_SIGV4: 'AWS SigV4',
};

export function authKindLabel(kind: string): string {
  return AUTH_KIND_LABELS[kind] ?? kind;
}

export const TEMPLATE_AUTH_KINDS: TemplateAuthKind[] = ['NONE', 'API_KEY', 'BEARER', 'BASIC', 'OAUTH2', 'CUSTOM', 'AWS_SIGV4'];

/** The JSON parts of a template, in the order the editor shows them. */
export const JSON_PARTS = [
  'configSchema', 'exampleConfig', 'credentialSchema', 'credentialMapping', 'exampleCredentials',
  'headers', 'operations', 'healthCheck', 'rateLimit', 'oauth2', 'incomingWebhooks',
] as const;
export type JsonPart = (typeof JSON_PARTS)[number];
/** Parts every template needs (the others may stay empty). */
export const REQUIRED_PARTS: JsonPart[] = ['configSchema', 'credentialSchema', 'exampleConfig', 'operations', 'healthCheck'];

export interface EditorState {
  projectId: string;
  slug: string;
  name: string;
  description: string;
  category: Category;
  protocol: Protocol;
  icon: string;
  docsUrl: string;
  /** The first is the default. */
  authKinds: TemplateAuthKind[];
  baseUrl: string;
  webhookEvents: string;
  json: Record<JsonPart, string>;
}

/** A small working REST template to start from: no auth, a base URL in config, a health operation. */
export function blankEditor(projectId: string): EditorState {
  return {
    projectId,
    slug: '',
    name: '',
    description: '',
    category: 'CUSTOM',
    protocol: 'REST',
    icon: '🔌',
    docsUrl: '',
    authKinds: ['NONE'],
    baseUrl: '{{config.baseUrl}}',
    webhookEvents: '',
    json: {
      configSchema: prettyJson({
        type: 'object',
        required: ['baseUrl'],
        properties: { baseUrl: { type: 'string', pattern: '^https?://', description: 'Base URL of the API' } },
        additionalProperties: false,
      }),
      exampleConfig: prettyJson({ baseUrl: 'https://api.example.com' }),
      credentialSchema: prettyJson({ type: 'object', properties: {} }),
      credentialMapping: '',
      exampleCredentials: '',
      headers: prettyJson({ Accept: 'application/json' }),
      operations: prettyJson([{ name: 'health', description: 'Check the API answers', method: 'GET', path: '/health', parameters: [] }]),
      healthCheck: prettyJson({ operation: 'health', expectedStatus: [200] }),
      rateLimit: '',
      oauth2: '',
      incomingWebhooks: '',
    },
  };
}

type Stored = NonNullable<TemplateQuery['template']>;

/** Output objects back to input JSON: no nulls, no `__typename` (urql's cache adds it). */
function stripNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined && k !== '__typename') out[k] = stripNulls(v);
    return out;
  }
  return value;
}

const json = (value: unknown) => (value === null || value === undefined ? '' : prettyJson(value));

/** A stored version as editor state (exampleCredentials is never returned by the API). */
export function editorFromTemplate(t: Stored): EditorState {
  const operations = t.operations.map((op) =>
    stripNulls({
      name: op.name,
      description: op.description,
      method: op.method,
      path: op.path,
      parameters: op.parameters.map((p) => ({ name: p.name, in: p.in.toLowerCase(), required: p.required, schema: p.schema, description: p.description })),
      body: op.body,
      pagination: op.pagination,
    }),
  );
  return {
    projectId: t.project?.id ?? '',
    slug: t.slug,
    name: t.name,
    description: t.description ?? '',
    category: t.category,
    protocol: t.protocol,
    icon: t.icon ?? '',
    docsUrl: t.docsUrl ?? '',
    authKinds: [...t.authKinds],
    baseUrl: t.baseUrl,
    webhookEvents: t.webhookEvents.join(', '),
    json: {
      configSchema: json(t.configSchema),
      exampleConfig: json(t.exampleConfig),
      credentialSchema: json(t.credentialSchema),
      credentialMapping: json(t.credentialMapping),
      exampleCredentials: '',
      headers: t.headers && Object.keys(t.headers as object).length ? json(t.headers) : '',
      operations: json(operations),
      healthCheck: json(stripNulls(t.healthCheck)),
      rateLimit: json(t.rateLimit ? stripNulls(t.rateLimit) : null),
      oauth2: json(t.oauth2 ? stripNulls(t.oauth2) : null),
      incomingWebhooks: json(t.incomingWebhooks ? stripNulls(t.incomingWebhooks) : null),
    },
  };
}

export interface EditorInput {
  slug: string;
  name: string;
  description: string | null;
  category: Category;
  protocol: Protocol;
  icon: string | null;
  docsUrl: string | null;
  authKinds: TemplateAuthKind[];
  baseUrl: string;
  /** null when none (the server wants a non-empty list or nothing). */
  webhookEvents: string[] | null;
  configSchema?: unknown;
  exampleConfig?: unknown;
  credentialSchema?: unknown;
  credentialMapping?: unknown;
  exampleCredentials?: unknown;
  headers?: unknown;
  operations?: unknown;
  healthCheck?: unknown;
  rateLimit?: unknown;
  oauth2?: unknown;
  incomingWebhooks?: unknown;
}

/**
 * The input, or the problems the client can see by itself (unreadable JSON, a missing
 * required part, no auth kind) keyed like the server's paths below `input`.
 */
export function editorToInput(state: EditorState): { input: EditorInput; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const events = state.webhookEvents.split(/[,\s]+/).map((e) => e.trim()).filter(Boolean);
  const input: EditorInput = {
    slug: state.slug.trim(),
    name: state.name.trim(),
    description: state.description.trim() || null,
    category: state.category,
    protocol: state.protocol,
    icon: state.icon.trim() || null,
    docsUrl: state.docsUrl.trim() || null,
    authKinds: state.authKinds,
    baseUrl: state.baseUrl.trim(),
    webhookEvents: events.length ? events : null,
  };
  if (!input.authKinds.length) errors.authKinds = 'Pick at least one auth kind';
  for (const part of JSON_PARTS) {
    const text = state.json[part].trim();
    if (!text) {
      if (REQUIRED_PARTS.includes(part)) errors[part] = 'is required';
      continue;
    }
    try {
      input[part] = JSON.parse(text);
    } catch (e) {
      errors[part] = `is not valid JSON: ${(e as Error).message}`;
    }
  }
  return { input, errors };
}
