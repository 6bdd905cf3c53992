/**
 * xterm.js colour themes matching the app's light and dark palettes (client/styles/tokens.css).
 * Based on GitHub's terminal colours, darkened/lightened where needed so every colour a program
 * prints reads at WCAG AA contrast (4.5:1) on the terminal background.
 */
import type { ITheme } from '@xterm/xterm';
import type { ThemeName } from '../preferences.js';

const light: ITheme = {
  background: '#ffffff',
  foreground: '#1f2328',
  cursor: '#3a63c4',
  cursorAccent: '#ffffff',
  selectionBackground: '#b6cffa',
  selectionInactiveBackground: '#dde6f5',
  scrollbarSliderBackground: 'rgba(31, 35, 40, 0.18)',
  scrollbarSliderHoverBackground: 'rgba(31, 35, 40, 0.3)',
  scrollbarSliderActiveBackground: 'rgba(31, 35, 40, 0.4)',
  black: '#24292f',
  red: '#cf222e',
  green: '#116329',
  yellow: '#7d4e00',
  blue: '#0969da',
  magenta: '#8250df',
  cyan: '#1b7c83',
  white: '#6e7781',
  brightBlack: '#57606a',
  brightRed: '#a40e26',
  brightGreen: '#1a7f37',
  brightYellow: '#633c01',
  brightBlue: '#0a5fc2',
  brightMagenta: '#7a3fd6',
  brightCyan: '#0e6b78',
  brightWhite: '#5c6570',
};

const dark: ITheme = {
  background: '#0b0f14',
  foreground: '#e6edf3',
  cursor: '#8fb3ff',
  cursorAccent: '#0b0f14',
  selectionBackground: '#2b4a80',
  selectionInactiveBackground: '#23324d',
  scrollbarSliderBackground: 'rgba(230, 237, 243, 0.16)',
  scrollbarSliderHoverBackground: 'rgba(230, 237, 243, 0.28)',
  scrollbarSliderActiveBackground: 'rgba(230, 237, 243, 0.38)',
  black: '#5d646e',
  red: '#ff7b72',
  green: '#3fb950',
  yellow: '#d29922',
  blue: '#58a6ff',
  magenta: '#bc8cff',
  cyan: '#39c5cf',
  white: '#b1bac4',
  brightBlack: '#848d97',
  brightRed: '#ffa198',
  brightGreen: '#56d364',
  brightYellow: '#e3b341',
  brightBlue: '#79c0ff',
  brightMagenta: '#d2a8ff',
  brightCyan: '#56d4dd',
  brightWhite: '#f0f6fc',
};

export const terminalThemes: Record<ThemeName, ITheme> = { light, dark };

/** Search highlight colours; the search addon needs #RRGGBB. */
export const searchDecorations: Record<ThemeName, { match: string; active: string }> = {
  light: { match: '#fff3b0', active: '#ffb454' },
  dark: { match: '#5c4d1a', active: '#b3701f' },
};
