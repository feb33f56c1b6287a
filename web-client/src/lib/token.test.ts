import { describe, expect, it } from 'vitest';
import {
  TOKEN_KEY, adoptTokenFromLocation, authHeaders, clearToken, normalizePastedToken, parseFragmentToken, readToken, tokenHint,
} from './token';

function memoryStorage(initial: Record<string, string> = {}) {
  const map = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
    map,
  };
}

describe('parseFragmentToken', () => {
  it('reads #token=… as printed by the server', () => {
    expect(parseFragmentToken('#token=pbk_abc123')).toEqual({ token: 'pbk_abc123', rest: '' });
  });
  it('keeps other fragment parts', () => {
    expect(parseFragmentToken('#tab=logs&token=pbk_x&y=1')).toEqual({ token: 'pbk_x', rest: 'tab=logs&y=1' });
  });
  it('decodes percent-encoding and trims', () => {
    expect(parseFragmentToken('#token=pbk%5Fabc%20').token).toBe('pbk_abc');
  });
  it('returns null without a token or with an empty one', () => {
    expect(parseFragmentToken('').token).toBeNull();
    expect(parseFragmentToken('#section').token).toBeNull();
    expect(parseFragmentToken('#token=').token).toBeNull();
  });
  it('survives malformed encoding', () => {
    expect(parseFragmentToken('#token=pbk_%E0%A4%A').token).toBe('pbk_%E0%A4%A');
  });
});

describe('normalizePastedToken', () => {
  it('accepts a bare token, a Bearer header value, or the login URL', () => {
    expect(normalizePastedToken('  pbk_1 ')).toBe('pbk_1');
    expect(normalizePastedToken('Bearer pbk_2')).toBe('pbk_2');
    expect(normalizePastedToken('http://127.0.0.1:8080/graphql#token=pbk_3')).toBe('pbk_3');
    expect(normalizePastedToken('http://127.0.0.1:8080/#token=pbk_4&x=1')).toBe('pbk_4');
  });
  it('rejects empty text, URLs without a token and text with spaces', () => {
    expect(normalizePastedToken('')).toBeNull();
    expect(normalizePastedToken('http://127.0.0.1:8080/')).toBeNull();
    expect(normalizePastedToken('two words')).toBeNull();
  });
});

describe('adoptTokenFromLocation', () => {
  it('moves the token to storage and clears it from the address bar', () => {
    const storage = memoryStorage();
    const calls: string[] = [];
    const history = { replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void calls.push(String(url)) };
    const token = adoptTokenFromLocation({ hash: '#token=pbk_new', pathname: '/integrations', search: '?q=x' }, history, storage);
    expect(token).toBe('pbk_new');
    expect(storage.map.get(TOKEN_KEY)).toBe('pbk_new');
    expect(calls).toEqual(['/integrations?q=x']);
  });
  it('keeps the stored token when the URL has none, without touching history', () => {
    const storage = memoryStorage({ [TOKEN_KEY]: 'pbk_old' });
    const history = { replaceState: () => { throw new Error('must not be called'); } };
    expect(adoptTokenFromLocation({ hash: '', pathname: '/', search: '' }, history, storage)).toBe('pbk_old');
  });
  it('a new login URL replaces the stored token', () => {
    const storage = memoryStorage({ [TOKEN_KEY]: 'pbk_old' });
    const history = { replaceState: () => {} };
    expect(adoptTokenFromLocation({ hash: '#token=pbk_new', pathname: '/', search: '' }, history, storage)).toBe('pbk_new');
  });
});

describe('storage helpers', () => {
  it('reads, clears, hints, headers', () => {
    const storage = memoryStorage({ [TOKEN_KEY]: ' pbk_abcdefghij ' });
    expect(readToken(storage)).toBe('pbk_abcdefghij');
    clearToken(storage);
    expect(readToken(storage)).toBeNull();
    expect(tokenHint('pbk_abcdefghij')).toBe('…efghij');
    expect(authHeaders('t')).toEqual({ Authorization: 'Bearer t' });
    expect(authHeaders(null)).toEqual({});
  });
  it('treats a throwing storage as empty', () => {
    const storage = { getItem: () => { throw new Error('denied'); }, setItem: () => {}, removeItem: () => {} };
    expect(readToken(storage)).toBeNull();
  });
});
