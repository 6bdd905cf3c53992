/**
 * Small per-browser preferences kept in localStorage. Storage can be unavailable (privacy
 * modes, disabled cookies): preferences then silently fall back to defaults for the page's
 * lifetime rather than breaking the app.
 */
const PREFIX = 'istio-playground.';

export function readPreference(key: string): string | null {
  try {
    return window.localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

export function writePreference(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(PREFIX + key);
    else window.localStorage.setItem(PREFIX + key, value);
  } catch {
    // Not persisted; the setting still applies to this page.
  }
}

export type ThemeName = 'light' | 'dark';

export const THEME_KEY = 'theme';

export function storedTheme(): ThemeName | null {
  const value = readPreference(THEME_KEY);
  return value === 'light' || value === 'dark' ? value : null;
}

export function systemTheme(): ThemeName {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
