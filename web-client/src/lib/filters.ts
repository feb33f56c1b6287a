// The integrations list's filter (api.md `IntegrationFilter`: category, status, enabled,
// tag, text) kept in the URL query string so views can be bookmarked and shared.
import type { Category, IntegrationFilter, IntegrationStatus } from '../gql/graphql';

export const CATEGORIES: Category[] = [
  'CAD', 'SIMULATION', 'EDA', 'PROJECT_MANAGEMENT', 'COMMUNICATION', 'VERSION_CONTROL',
  'CLOUD_STORAGE', 'CI_CD', 'TESTING', 'MONITORING', 'SOCIAL_MEDIA', 'ANALYTICS',
  'AI_SERVICE', 'CRM', 'EMAIL', 'DATABASE', 'MESSAGING', 'FILE_TRANSFER', 'CUSTOM',
];

export const STATUSES: IntegrationStatus[] = ['ACTIVE', 'INACTIVE', 'MAINTENANCE', 'DEPRECATED'];

export interface FilterState {
  text: string;
  category: Category | '';
  status: IntegrationStatus | '';
  enabled: '' | 'true' | 'false';
  tag: string;
}

export const EMPTY_FILTER: FilterState = { text: '', category: '', status: '', enabled: '', tag: '' };

export function filterFromSearch(search: string): FilterState {
  const params = new URLSearchParams(search);
  const category = params.get('category') || '';
  const status = params.get('status') || '';
  const enabled = params.get('enabled') || '';
  return {
    text: params.get('q') || '',
    category: (CATEGORIES as string[]).includes(category) ? (category as Category) : '',
    status: (STATUSES as string[]).includes(status) ? (status as IntegrationStatus) : '',
    enabled: enabled === 'true' || enabled === 'false' ? enabled : '',
    tag: params.get('tag') || '',
  };
}

export function filterToSearch(filter: FilterState): string {
  const params = new URLSearchParams();
  if (filter.text.trim()) params.set('q', filter.text.trim());
  if (filter.category) params.set('category', filter.category);
  if (filter.status) params.set('status', filter.status);
  if (filter.enabled) params.set('enabled', filter.enabled);
  if (filter.tag.trim()) params.set('tag', filter.tag.trim());
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The GraphQL input: only the parts that are set (null when nothing is). */
export function filterToInput(filter: FilterState): IntegrationFilter | null {
  const input: IntegrationFilter = {};
  if (filter.text.trim()) input.text = filter.text.trim();
  if (filter.category) input.category = filter.category;
  if (filter.status) input.status = filter.status;
  if (filter.enabled) input.enabled = filter.enabled === 'true';
  if (filter.tag.trim()) input.tag = filter.tag.trim();
  return Object.keys(input).length ? input : null;
}

export function isFilterEmpty(filter: FilterState): boolean {
  return filterToInput(filter) === null;
}

/** "prod, eu ,, db" → ["prod", "eu", "db"] (deduplicated, order kept). */
export function parseTags(text: string): string[] {
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const tag = raw.trim();
    if (tag) seen.add(tag);
  }
  return [...seen];
}

/** Relay pagination: a stack of `after` cursors so "Previous" works with first/after only. */
export interface PageCursor {
  stack: (string | null)[];
}

export function firstPage(): PageCursor {
  return { stack: [null] };
}

export function currentAfter(cursor: PageCursor): string | null {
  return cursor.stack[cursor.stack.length - 1];
}

export function nextPage(cursor: PageCursor, endCursor: string | null | undefined): PageCursor {
  return endCursor ? { stack: [...cursor.stack, endCursor] } : cursor;
}

export function previousPage(cursor: PageCursor): PageCursor {
  return cursor.stack.length > 1 ? { stack: cursor.stack.slice(0, -1) } : cursor;
}

export function pageNumber(cursor: PageCursor): number {
  return cursor.stack.length;
}

/** Log levels in increasing order; `atLeast` tells whether a level passes a minimum. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LOG_LEVELS)[number];

export function atLeast(level: Level, min: Level | '' | null | undefined): boolean {
  if (!min) return true;
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(min);
}
