import { describe, expect, it } from 'vitest';
import {
  EMPTY_FILTER, atLeast, currentAfter, filterFromSearch, filterToInput, filterToSearch, firstPage, isFilterEmpty,
  nextPage, pageNumber, parseTags, previousPage,
} from './filters';

describe('integration filter', () => {
  it('round-trips through the query string', () => {
    const f = { text: 'jira', category: 'PROJECT_MANAGEMENT', status: 'ACTIVE', enabled: 'true', tag: 'prod' } as const;
    expect(filterFromSearch(filterToSearch(f))).toEqual(f);
  });
  it('ignores unknown enum values', () => {
    expect(filterFromSearch('?category=NOPE&status=x&enabled=maybe')).toEqual(EMPTY_FILTER);
  });
  it('builds only the set parts of IntegrationFilter', () => {
    expect(filterToInput(EMPTY_FILTER)).toBeNull();
    expect(isFilterEmpty({ ...EMPTY_FILTER, text: '   ' })).toBe(true);
    expect(filterToInput({ ...EMPTY_FILTER, text: ' jira ', enabled: 'false' })).toEqual({ text: 'jira', enabled: false });
    expect(filterToInput({ ...EMPTY_FILTER, category: 'CRM', tag: 'eu' })).toEqual({ category: 'CRM', tag: 'eu' });
  });
  it('emits an empty search for an empty filter', () => {
    expect(filterToSearch(EMPTY_FILTER)).toBe('');
  });
});

describe('pagination with first/after', () => {
  it('walks forward and back', () => {
    let c = firstPage();
    expect(currentAfter(c)).toBeNull();
    c = nextPage(c, 'int_2');
    c = nextPage(c, 'int_4');
    expect(pageNumber(c)).toBe(3);
    expect(currentAfter(c)).toBe('int_4');
    c = previousPage(c);
    expect(currentAfter(c)).toBe('int_2');
    c = previousPage(previousPage(c));
    expect(pageNumber(c)).toBe(1);
    expect(nextPage(c, null)).toBe(c);
  });
});

describe('tags and levels', () => {
  it('parses comma-separated tags', () => {
    expect(parseTags(' prod, eu ,, prod,db ')).toEqual(['prod', 'eu', 'db']);
    expect(parseTags('')).toEqual([]);
  });
  it('compares log levels', () => {
    expect(atLeast('ERROR', 'WARN')).toBe(true);
    expect(atLeast('INFO', 'WARN')).toBe(false);
    expect(atLeast('DEBUG', '')).toBe(true);
    expect(atLeast('CRITICAL', 'CRITICAL')).toBe(true);
  });
});
