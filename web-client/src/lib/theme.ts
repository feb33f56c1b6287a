// Light/dark theme: follows prefers-color-scheme until the person picks one.
export type ThemeChoice = 'light' | 'dark' | 'system';
export const THEME_KEY = 'patchbay.theme';

export function readThemeChoice(storage: Pick<Storage, 'getItem'>): ThemeChoice {
  try {
    const v = storage.getItem(THEME_KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

export function resolveTheme(choice: ThemeChoice, prefersDark: boolean): 'light' | 'dark' {
  return choice === 'system' ? (prefersDark ? 'dark' : 'light') : choice;
}

export const THEME_EVENT = 'patchbay-theme';

export function applyTheme(choice: ThemeChoice, root: HTMLElement = document.documentElement): void {
  if (choice === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', choice);
  if (typeof window !== 'undefined') window.dispatchEvent(new Event(THEME_EVENT));
}

/** Calls `fn` whenever the shown theme may have changed (toggle or system setting). */
export function onThemeChange(fn: () => void): () => void {
  const media = window.matchMedia?.('(prefers-color-scheme: dark)');
  media?.addEventListener?.('change', fn);
  window.addEventListener(THEME_EVENT, fn);
  return () => {
    media?.removeEventListener?.('change', fn);
    window.removeEventListener(THEME_EVENT, fn);
  };
}
