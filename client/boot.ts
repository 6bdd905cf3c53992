/**
 * Runs synchronously in <head>, before the first paint, so the page never flashes the wrong
 * theme. Kept separate from the app bundle because it must be tiny.
 */
import { storedTheme, systemTheme } from './preferences.js';

document.documentElement.dataset.theme = storedTheme() ?? systemTheme();
