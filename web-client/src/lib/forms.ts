// Parsing helpers for forms.

/** Parses a JSON object field; empty text → undefined. */
export function parseJsonObject(text: string, what: string): { value?: Record<string, unknown>; error?: string } {
  const trimmed = text.trim();
  if (!trimmed) return {};
  try {
    const value = JSON.parse(trimmed);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: `${what} must be a JSON object` };
    return { value };
  } catch (e) {
    return { error: `${what} is not valid JSON: ${(e as Error).message}` };
  }
}

/** "200, 204" → [200, 204]; rejects anything that is not an HTTP status. */
export function parseStatusList(text: string): { value: number[]; error?: string } {
  const out: number[] = [];
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const n = Number(part);
    if (!Number.isInteger(n) || n < 100 || n > 599) return { value: [], error: `"${part}" is not an HTTP status` };
    out.push(n);
  }
  return { value: out };
}

/** Optional integer field in a range; empty → undefined. */
export function parseOptionalInt(text: string, min: number, max: number, what: string): { value?: number; error?: string } {
  const t = text.trim();
  if (!t) return {};
  const n = Number(t);
  if (!Number.isInteger(n) || n < min || n > max) return { error: `${what} must be a whole number from ${min} to ${max}` };
  return { value: n };
}

/** `<input type="datetime-local">` value (local time) → RFC 3339 UTC. */
export function localInputToIso(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** Date → `<input type="datetime-local">` value in local time. */
export function isoToLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export interface BatchCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  path: string;
  body?: unknown;
}

const BATCH_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];

/**
 * A batch written one call a line: `METHOD /path` with an optional JSON body after the path
 * (`POST /items {"title": "x"}`). Blank lines and `#` comments are skipped; each bad line
 * is reported with its number. At most `max` calls.
 */
export function parseBatchLines(text: string, max = 500): { calls: BatchCall[]; errors: string[] } {
  const calls: BatchCall[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([A-Za-z]+)\s+(\S+)(?:\s+(.+))?$/.exec(line);
    if (!m) {
      errors.push(`Line ${i + 1}: write METHOD /path`);
      return;
    }
    const method = m[1].toUpperCase();
    if (!BATCH_METHODS.includes(method)) {
      errors.push(`Line ${i + 1}: ${m[1]} is not one of ${BATCH_METHODS.join(', ')}`);
      return;
    }
    const call: BatchCall = { method: method as BatchCall['method'], path: m[2] };
    if (m[3]) {
      if (method === 'GET' || method === 'HEAD') {
        errors.push(`Line ${i + 1}: ${method} takes no body`);
        return;
      }
      try {
        call.body = JSON.parse(m[3]);
      } catch (e) {
        errors.push(`Line ${i + 1}: the body is not JSON (${(e as Error).message})`);
        return;
      }
    }
    calls.push(call);
  });
  if (!calls.length && !errors.length) errors.push('Write at least one call');
  if (calls.length > max) errors.push(`At most ${max} calls in one batch (${calls.length} given)`);
  return { calls, errors };
}
