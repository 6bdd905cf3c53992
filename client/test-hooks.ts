/**
 * What the page exposes as `window.__playground`: read-only views for end-to-end tests (and
 * curious users in the console). Nothing here can change the app's state.
 */
export interface PlaygroundHooks {
  /** Everything in the terminal's buffer, scrollback included, as plain text. */
  terminalText(): string;
  /** connecting | connected | reconnecting | ended | detached | unauthorized, or none before a track opens. */
  connectionState(): string;
  terminalSize(): { cols: number; rows: number } | null;
}

declare global {
  interface Window {
    __playground?: PlaygroundHooks;
  }
}
