import { describe, expect, it } from 'vitest';
import { groupEventTypes, isValidPattern, normalizeSelection, patternMatches } from './events';
import { fetchNewest, mergeNewest } from './live';
import { href, parseRoute } from './router';
import { isoToLocalInput, localInputToIso, parseJsonObject, parseOptionalInt, parseStatusList } from './forms';
import { resolveTheme } from './theme';

describe('event patterns', () => {
  it('groups, matches and normalises', () => {
    expect(groupEventTypes(['integration.updated', 'alert.fired', 'integration.created'])).toEqual([
      { group: 'alert', names: ['alert.fired'] },
      { group: 'integration', names: ['integration.created', 'integration.updated'] },
    ]);
    expect(patternMatches('integration.*', 'integration.created')).toBe(true);
    expect(patternMatches('integration.*', 'webhook.disabled')).toBe(false);
    expect(patternMatches('*', 'anything')).toBe(true);
    expect(normalizeSelection(['integration.created', 'integration.*', 'alert.fired', 'alert.fired'])).toEqual(['integration.*', 'alert.fired']);
    expect(normalizeSelection(['*', 'alert.fired'])).toEqual(['*']);
    expect(isValidPattern('custom.deploy.*')).toBe(true);
    expect(isValidPattern('custom..x')).toBe(false);
    expect(isValidPattern('a b')).toBe(false);
  });
});

describe('live lists', () => {
  it('merges newest first, without duplicates, bounded', () => {
    const cur = [{ id: 'b' }, { id: 'a' }];
    expect(mergeNewest(cur, [{ id: 'c' }, { id: 'd' }], 3).map((x) => x.id)).toEqual(['d', 'c', 'b']);
    expect(mergeNewest(cur, [{ id: 'b' }], 10).map((x) => x.id)).toEqual(['b', 'a']);
    expect(mergeNewest(cur, [], 10)).toBe(cur);
  });
  it('reads an oldest-first connection to its end', async () => {
    const pages: Record<string, { nodes: number[]; hasNextPage: boolean; endCursor: string | null }> = {
      start: { nodes: [1, 2, 3], hasNextPage: true, endCursor: 'p2' },
      p2: { nodes: [4, 5], hasNextPage: false, endCursor: 'p2end' },
    };
    const r = await fetchNewest<number>(async (after) => pages[after ?? 'start'], 3);
    expect(r).toEqual({ items: [5, 4, 3], complete: true });
    const capped = await fetchNewest<number>(async (after) => pages[after ?? 'start'], 3, 1);
    expect(capped.complete).toBe(false);
  });
});

describe('routes', () => {
  it('parses and builds paths', () => {
    expect(parseRoute('/')).toEqual({ name: 'overview' });
    expect(parseRoute('/integrations/int_1')).toEqual({ name: 'integration', id: 'int_1', tab: 'overview' });
    expect(parseRoute('/integrations/int_1/logs')).toEqual({ name: 'integration', id: 'int_1', tab: 'logs' });
    expect(parseRoute('/integrations/new')).toEqual({ name: 'integration-new' });
    expect(parseRoute('/webhooks/whk_1')).toEqual({ name: 'webhook', id: 'whk_1' });
    expect(parseRoute('/settings')).toEqual({ name: 'settings' });
    expect(parseRoute('/integrations/int_1/bogus').name).toBe('not-found');
    expect(parseRoute('/nope').name).toBe('not-found');
    expect(parseRoute('/integrations/new/custom')).toEqual({ name: 'integration-new-custom' });
    expect(parseRoute('/integrations/int_1/sync')).toEqual({ name: 'integration', id: 'int_1', tab: 'sync' });
    expect(parseRoute('/templates')).toEqual({ name: 'templates' });
    expect(parseRoute('/templates/new')).toEqual({ name: 'template-new' });
    expect(parseRoute('/templates/tpl_1')).toEqual({ name: 'template', id: 'tpl_1' });
    expect(parseRoute('/templates/tpl_1/edit')).toEqual({ name: 'template-edit', id: 'tpl_1' });
    expect(parseRoute('/templates/tpl_1/bogus').name).toBe('not-found');
    for (const path of ['/', '/integrations', '/integrations/int_1/explorer', '/integrations/int_1/sync', '/integrations/new/custom', '/templates', '/templates/new', '/templates/tpl_1', '/templates/tpl_1/edit', '/webhooks/new', '/webhooks/whk_2', '/settings']) {
      expect(href(parseRoute(path))).toBe(path);
    }
  });
});

describe('form parsing', () => {
  it('JSON objects, statuses, integers, dates', () => {
    expect(parseJsonObject('', 'X')).toEqual({});
    expect(parseJsonObject('{"a":"b"}', 'X')).toEqual({ value: { a: 'b' } });
    expect(parseJsonObject('[1]', 'X').error).toMatch(/object/);
    expect(parseJsonObject('{', 'X').error).toMatch(/not valid JSON/);
    expect(parseStatusList('200, 204 301')).toEqual({ value: [200, 204, 301] });
    expect(parseStatusList('abc').error).toBeTruthy();
    expect(parseOptionalInt('', 1, 5, 'n')).toEqual({});
    expect(parseOptionalInt('9', 1, 5, 'n').error).toBeTruthy();
    expect(parseOptionalInt('3', 1, 5, 'n')).toEqual({ value: 3 });
    const d = new Date(2025, 0, 2, 3, 4);
    expect(isoToLocalInput(d)).toBe('2025-01-02T03:04');
    expect(localInputToIso('2025-01-02T03:04')).toBe(d.toISOString());
    expect(localInputToIso('')).toBeNull();
  });
  it('resolves the theme', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
  });
});
