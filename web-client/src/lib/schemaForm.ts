// A form generated from a template's JSON Schema (2020-12, the subset templates use: an
// object of properties with type, enum, const, default, format, pattern, bounds, required).
// Values are kept as the text the user typed; `toValue` turns them into typed JSON and
// reports every problem at its property, the same checks the server runs (it checks again
// and its problems map back onto the same properties: see `problemsUnder`).

export type FieldKind = 'string' | 'integer' | 'number' | 'boolean' | 'enum' | 'list' | 'json';

export interface SchemaField {
  key: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  /** The schema's default (filled in by the server when the field is left empty). */
  defaultValue?: unknown;
  /** A fixed value: shown read-only, always sent. */
  constValue?: unknown;
  options?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  /** Shown as a password input, never echoed (credentials, `writeOnly`, `format: password`). */
  secret: boolean;
  /** An example value from the template's example (placeholder only, never sent). */
  example?: unknown;
}

export interface SchemaForm {
  fields: SchemaField[];
  /** Properties beyond the declared ones are accepted (`additionalProperties` not false). */
  open: boolean;
}

export type FormValues = Record<string, string | boolean>;

type Json = Record<string, unknown>;

function obj(value: unknown): Json | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

const ACRONYMS: Record<string, string> = { url: 'URL', uri: 'URI', id: 'ID', api: 'API', sid: 'SID', dc: 'DC', ssl: 'SSL', http: 'HTTP', oauth: 'OAuth' };

/** "baseUrl" → "Base URL", "api_version" → "API version". */
export function labelOf(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((w) => ACRONYMS[w.toLowerCase()] ?? w.toLowerCase());
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function typeOf(schema: Json): string | undefined {
  const t = schema.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.find((x) => x !== 'null') as string | undefined;
  return undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The fields of an object schema, in declaration order (required ones first when unordered). */
export function formOf(schema: unknown, { secrets = false, example }: { secrets?: boolean; example?: unknown } = {}): SchemaForm {
  const s = obj(schema) ?? {};
  const props = obj(s.properties) ?? {};
  const required = new Set(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : []);
  const ex = obj(example) ?? {};
  const fields: SchemaField[] = Object.entries(props).map(([key, raw]) => {
    const p = obj(raw) ?? {};
    const type = typeOf(p);
    const items = obj(p.items);
    let kind: FieldKind;
    if ('const' in p) kind = type === 'boolean' ? 'boolean' : 'string';
    else if (Array.isArray(p.enum)) kind = 'enum';
    else if (type === 'string') kind = 'string';
    else if (type === 'integer') kind = 'integer';
    else if (type === 'number') kind = 'number';
    else if (type === 'boolean') kind = 'boolean';
    else if (type === 'array' && items && ['string', 'integer', 'number'].includes(typeOf(items) ?? '')) kind = 'list';
    else kind = 'json';
    const field: SchemaField = {
      key,
      label: typeof p.title === 'string' && p.title.trim() ? p.title : labelOf(key),
      kind,
      required: required.has(key),
      secret: kind === 'string' && (secrets || p.writeOnly === true || p.format === 'password'),
    };
    if (typeof p.description === 'string') field.description = p.description;
    if ('default' in p) field.defaultValue = p.default;
    if ('const' in p) field.constValue = p.const;
    if (Array.isArray(p.enum)) field.options = p.enum;
    if (typeof p.format === 'string') field.format = p.format;
    if (typeof p.pattern === 'string') field.pattern = p.pattern;
    for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength'] as const) {
      const n = num(p[k]);
      if (n !== undefined) field[k] = n;
    }
    if (key in ex && !field.secret) field.example = ex[key];
    return field;
  });
  return { fields, open: s.additionalProperties !== false };
}

function toText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) return value.join(', ');
  return JSON.stringify(value);
}

/** Initial values: defaults and consts (never examples, which are fake). */
export function initialValues(form: SchemaForm, current?: unknown): FormValues {
  const cur = obj(current) ?? {};
  const values: FormValues = {};
  for (const f of form.fields) {
    const v = f.key in cur ? cur[f.key] : f.constValue !== undefined ? f.constValue : f.defaultValue;
    if (f.kind === 'boolean') values[f.key] = v === true;
    else if (f.kind === 'enum') values[f.key] = v === undefined ? '' : JSON.stringify(v);
    else values[f.key] = toText(v);
  }
  return values;
}

/** The text shown as a placeholder: the example, else the default. */
export function placeholderOf(field: SchemaField): string {
  if (field.example !== undefined) return `e.g. ${toText(field.example)}`;
  if (field.defaultValue !== undefined) return `default: ${toText(field.defaultValue)}`;
  return '';
}

function checkNumber(f: SchemaField, n: number): string | null {
  if (f.kind === 'integer' && !Number.isInteger(n)) return 'must be a whole number';
  if (f.minimum !== undefined && n < f.minimum) return `must be at least ${f.minimum}`;
  if (f.maximum !== undefined && n > f.maximum) return `must be at most ${f.maximum}`;
  if (f.exclusiveMinimum !== undefined && n <= f.exclusiveMinimum) return `must be more than ${f.exclusiveMinimum}`;
  if (f.exclusiveMaximum !== undefined && n >= f.exclusiveMaximum) return `must be less than ${f.exclusiveMaximum}`;
  return null;
}

function checkString(f: SchemaField, s: string): string | null {
  const length = [...s].length;
  if (f.minLength !== undefined && length < f.minLength) return `must be at least ${f.minLength} characters`;
  if (f.maxLength !== undefined && length > f.maxLength) return `must be at most ${f.maxLength} characters`;
  if (f.pattern) {
    let re: RegExp | null = null;
    try {
      re = new RegExp(f.pattern, 'u');
    } catch {
      re = null; // a pattern JavaScript cannot read: the server checks it
    }
    if (re && !re.test(s)) return `must match ${f.pattern}`;
  }
  if (f.format === 'uri' || f.format === 'url') {
    try {
      const u = new URL(s);
      if (!u.protocol) return 'must be an absolute URL';
    } catch {
      return 'must be an absolute URL';
    }
  }
  if (f.format === 'email' && !/^[^@\s]+@[^@\s]+$/.test(s)) return 'must be an email address';
  return null;
}

/** Typed JSON from the form, and every problem by property key ("" for the whole object). */
export function toValue(form: SchemaForm, values: FormValues): { value: Json; errors: Record<string, string> } {
  const value: Json = {};
  const errors: Record<string, string> = {};
  for (const f of form.fields) {
    const raw = values[f.key];
    if (f.constValue !== undefined) {
      value[f.key] = f.constValue;
      continue;
    }
    if (f.kind === 'boolean') {
      // An unchecked optional box without a default says nothing: leave it out.
      if (raw === true || f.required || f.defaultValue !== undefined) value[f.key] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? (f.secret ? raw : raw.trim()) : '';
    if (!text) {
      // Empty: the server fills in the default; a required field without one is missing.
      if (f.required && f.defaultValue === undefined) errors[f.key] = 'is required';
      continue;
    }
    switch (f.kind) {
      case 'enum': {
        let v: unknown;
        try {
          v = JSON.parse(text);
        } catch {
          v = text;
        }
        if (!(f.options ?? []).some((o) => JSON.stringify(o) === JSON.stringify(v))) errors[f.key] = 'must be one of the listed values';
        else value[f.key] = v;
        break;
      }
      case 'integer':
      case 'number': {
        const n = Number(text);
        const problem = Number.isFinite(n) ? checkNumber(f, n) : 'must be a number';
        if (problem) errors[f.key] = problem;
        else value[f.key] = n;
        break;
      }
      case 'list': {
        value[f.key] = text.split(/[,\n]/).map((x) => x.trim()).filter(Boolean);
        break;
      }
      case 'json': {
        try {
          value[f.key] = JSON.parse(text);
        } catch (e) {
          errors[f.key] = `is not valid JSON: ${(e as Error).message}`;
        }
        break;
      }
      default: {
        const problem = checkString(f, text);
        if (problem) errors[f.key] = problem;
        else value[f.key] = text;
      }
    }
  }
  return { value, errors };
}

// ---- Server problems ----------------------------------------------------------------------

export interface Problem {
  /** A JSON path such as `input.config.baseUrl` or `input.operations[0].path`. */
  field: string;
  message: string;
}

interface ErrorLike {
  graphQLErrors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> | null }>;
}

/** Every problem of a BAD_USER_INPUT error (`extensions.problems`, else `field` + message). */
export function problemsOf(error: ErrorLike | null | undefined): Problem[] {
  const first = error?.graphQLErrors?.[0];
  if (!first || first.extensions?.code !== 'BAD_USER_INPUT') return [];
  const listed = first.extensions?.problems;
  if (Array.isArray(listed)) {
    return listed
      .map((p) => obj(p))
      .filter((p): p is Json => !!p && typeof p.field === 'string' && typeof p.message === 'string')
      .map((p) => ({ field: p.field as string, message: p.message as string }));
  }
  const field = first.extensions?.field;
  return typeof field === 'string' ? [{ field, message: first.message.replace(/^\[GraphQL\]\s*/, '') }] : [];
}

/**
 * Problems under `prefix` (e.g. `input.config`), keyed by the first step below it
 * (`baseUrl`, `headers`, `operations`); the rest of the path stays in the message
 * (`[0].path: must start with '/'`). A missing required property (reported by JSON Schema at
 * the object, `"x" is a required property`) is keyed by that property. Problems at the
 * prefix itself are keyed "".
 */
export function problemsUnder(problems: Problem[], prefix: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (key: string, message: string) => (out[key] ??= []).push(message);
  for (const p of problems) {
    if (p.field !== prefix && !p.field.startsWith(prefix + '.') && !p.field.startsWith(prefix + '[')) continue;
    let rest = p.field.slice(prefix.length);
    if (!rest) {
      const missing = /^"([^"]+)" is a required property$/.exec(p.message);
      if (missing) add(missing[1], 'is required');
      else add('', p.message);
      continue;
    }
    let key: string;
    if (rest.startsWith('.')) {
      const m = /^\.([A-Za-z_$][A-Za-z0-9_$]*)/.exec(rest)!;
      key = m[1];
      rest = rest.slice(m[0].length);
    } else {
      // `["odd-key"]` or `[3]`
      const m = /^\[("(?:[^"\\]|\\.)*"|\d+)\]/.exec(rest);
      if (!m) {
        add('', `${rest}: ${p.message}`);
        continue;
      }
      key = m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
      rest = rest.slice(m[0].length);
    }
    const missing = /^"([^"]+)" is a required property$/.exec(p.message);
    add(key, rest ? `${rest.replace(/^\./, '')}: ${p.message}` : missing ? `${missing[1]} is required` : p.message);
  }
  return out;
}
