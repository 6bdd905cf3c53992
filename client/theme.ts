/**
 * Light/dark theme: an explicit choice is persisted; without one the page follows the
 * system's prefers-color-scheme, live. The theme is the `data-theme` attribute on <html>,
 * which the CSS (including shiki's dual-theme code colours) keys on.
 */
import { THEME_KEY, type ThemeName, storedTheme, systemTheme, writePreference } from './preferences.js';

type Listener = (theme: ThemeName) => void;

export class ThemeController {
  private readonly listeners = new Set<Listener>();

  constructor() {
    this.apply(storedTheme() ?? systemTheme());
    window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', () => {
      if (!storedTheme()) this.apply(systemTheme());
    });
  }

  get current(): ThemeName {
    return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
  }

  toggle(): ThemeName {
    const next: ThemeName = this.current === 'dark' ? 'light' : 'dark';
    writePreference(THEME_KEY, next);
    this.apply(next);
    return next;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(theme: ThemeName): void {
    document.documentElement.dataset.theme = theme;
    for (const listener of this.listeners) listener(theme);
  }
}
