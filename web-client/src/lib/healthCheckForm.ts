// The health-check form (HealthCheckInput) as text fields: parsing, validation, and
// the mapping of server `extensions.field` paths to form fields.
import type { Comparison, HealthCheckInput, HttpMethod } from '../gql/graphql';
import { parseOptionalInt, parseStatusList } from './forms';

export interface HealthCheckForm {
  method: HttpMethod;
  path: string;
  expectedStatus: string;
  maxLatencyMs: string;
  intervalSeconds: string;
  timeoutMs: string;
  failureThreshold: string;
  successThreshold: string;
  pointer: string;
  comparison: Comparison;
  value: string;
}

export const COMPARISONS: Comparison[] = ['EQUALS', 'NOT_EQUALS', 'CONTAINS', 'EXISTS', 'LESS_THAN', 'GREATER_THAN'];

export interface HealthCheckLike {
  method: HttpMethod;
  path: string;
  expectedStatus: number[];
  maxLatencyMs?: number | null;
  intervalSeconds: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
  bodyCondition?: { pointer: string; comparison: Comparison; value?: unknown } | null;
}

export function healthCheckFormFrom(check: HealthCheckLike | null | undefined): HealthCheckForm {
  return {
    method: check?.method ?? 'GET',
    path: check?.path ?? '/',
    expectedStatus: check?.expectedStatus.join(', ') ?? '',
    maxLatencyMs: check?.maxLatencyMs != null ? String(check.maxLatencyMs) : '',
    intervalSeconds: check ? String(check.intervalSeconds) : '',
    timeoutMs: check ? String(check.timeoutMs) : '',
    failureThreshold: check ? String(check.failureThreshold) : '',
    successThreshold: check ? String(check.successThreshold) : '',
    pointer: check?.bodyCondition?.pointer ?? '',
    comparison: check?.bodyCondition?.comparison ?? 'EQUALS',
    value: check?.bodyCondition && check.bodyCondition.value !== undefined && check.bodyCondition.value !== null
      ? JSON.stringify(check.bodyCondition.value)
      : '',
  };
}

/** A body-condition value: JSON when it parses (`true`, `3`, `"ok"`), else the text as a string. */
export function parseConditionValue(text: string): unknown {
  const t = text.trim();
  if (!t) return null;
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
}

/** Form → HealthCheckInput; errors keyed by form field. Empty fields take the server's defaults. */
export function toHealthCheckInput(form: HealthCheckForm): { value?: HealthCheckInput; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const statuses = parseStatusList(form.expectedStatus);
  if (statuses.error) errors.expectedStatus = statuses.error;
  const ints: [keyof HealthCheckForm, number, number, string][] = [
    ['maxLatencyMs', 1, 300_000, 'Max latency'],
    ['intervalSeconds', 10, 86_400, 'Interval'],
    ['timeoutMs', 100, 300_000, 'Timeout'],
    ['failureThreshold', 1, 100, 'Failure threshold'],
    ['successThreshold', 1, 100, 'Success threshold'],
  ];
  const parsed: Record<string, number | undefined> = {};
  for (const [key, min, max, what] of ints) {
    const r = parseOptionalInt(form[key] as string, min, max, what);
    if (r.error) errors[key] = r.error;
    parsed[key] = r.value;
  }
  const path = form.path.trim() || '/';
  if (!path.startsWith('/')) errors.path = 'The path starts with /';
  const pointer = form.pointer.trim();
  if (pointer && !pointer.startsWith('/')) errors.pointer = 'A JSON pointer starts with / (e.g. /status)';
  if (!pointer && form.value.trim()) errors.pointer = 'Give the JSON pointer the value is compared at';
  if (pointer && form.comparison !== 'EXISTS' && !form.value.trim()) errors.value = 'Give the value to compare with';
  if (Object.keys(errors).length) return { errors };
  const value: HealthCheckInput = {
    method: form.method,
    path,
    expectedStatus: statuses.value,
  };
  for (const [key] of ints) if (parsed[key] !== undefined) (value as Record<string, unknown>)[key] = parsed[key];
  if (pointer) {
    value.bodyCondition = {
      pointer,
      comparison: form.comparison,
      ...(form.comparison === 'EXISTS' ? {} : { value: parseConditionValue(form.value) }),
    };
  }
  return { value, errors };
}

/**
 * The form field a server error points at: `input.healthCheck.intervalSeconds` →
 * `intervalSeconds`, `input.healthCheck.bodyCondition.pointer` → `pointer`; null otherwise.
 */
export function healthCheckFieldOf(serverField: string | null | undefined): string | null {
  if (!serverField) return null;
  const m = serverField.match(/(?:^|\.)healthCheck(?:\.(.+))?$/);
  if (!m) return null;
  const rest = m[1];
  if (!rest) return 'healthCheck';
  if (rest.startsWith('bodyCondition')) {
    const last = rest.split('.').pop()!;
    return last === 'bodyCondition' ? 'pointer' : last;
  }
  return rest.split('.')[0].replace(/\[\d+\]$/, '');
}
