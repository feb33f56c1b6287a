// API tokens: where the dashboard and GraphiQL keep them, and how the printed login URL
// (`http://HOST/#token=pbk_…`) hands one over. The fragment never reaches the server.

export const TOKEN_KEY = 'patchbay.token';

/** Minimal storage interface (localStorage in the browser, a Map in tests). */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Splits a URL fragment (`#token=…&x=y`, `token=…`) into the token and what remains of
 * the fragment. Returns `token: null` when there is none.
 */
export function parseFragmentToken(hash: string): { token: string | null; rest: string } {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!raw) return { token: null, rest: '' };
  const parts = raw.split('&');
  let token: string | null = null;
  const rest: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = eq >= 0 ? part.slice(0, eq) : part;
    if (key === 'token' && token === null) {
      let value = eq >= 0 ? part.slice(eq + 1) : '';
      try {
        value = decodeURIComponent(value.replace(/\+/g, ' '));
      } catch {
        /* keep the raw value */
      }
      value = value.trim();
      if (value) token = value;
    } else if (part) {
      rest.push(part);
    }
  }
  return { token, rest: rest.join('&') };
}

/**
 * Accepts what a person pastes: a bare token, `Bearer pbk_…`, or the whole login URL.
 * Returns null when nothing usable is in it.
 */
export function normalizePastedToken(input: string): string | null {
  let text = input.trim();
  if (!text) return null;
  const hashAt = text.indexOf('#');
  if (/^https?:\/\//i.test(text) || hashAt >= 0) {
    if (hashAt < 0) return null;
    return parseFragmentToken(text.slice(hashAt)).token;
  }
  text = text.replace(/^bearer\s+/i, '').trim();
  if (!text || /\s/.test(text)) return null;
  return text;
}

export function readToken(storage: TokenStorage): string | null {
  try {
    const value = storage.getItem(TOKEN_KEY);
    return value && value.trim() ? value.trim() : null;
  } catch {
    return null;
  }
}

export function writeToken(storage: TokenStorage, token: string): void {
  storage.setItem(TOKEN_KEY, token);
}

export function clearToken(storage: TokenStorage): void {
  storage.removeItem(TOKEN_KEY);
}

/**
 * Moves a token found in the location's fragment into storage and removes it from the
 * address bar (keeping path, query and any other fragment parts). Returns the token that
 * is now stored, if any.
 */
export function adoptTokenFromLocation(
  location: Pick<Location, 'hash' | 'pathname' | 'search'>,
  history: Pick<History, 'replaceState'>,
  storage: TokenStorage,
): string | null {
  const { token, rest } = parseFragmentToken(location.hash || '');
  if (token) {
    writeToken(storage, token);
    history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest : ''));
  }
  return readToken(storage);
}

/** What the UI shows of a token: its last characters only. */
export function tokenHint(token: string): string {
  return '…' + token.slice(-6);
}

/** The `Authorization` header value / `connection_init` payload for a token. */
export function authHeaders(token: string | null): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}
