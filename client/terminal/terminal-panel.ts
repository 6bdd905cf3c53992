/**
 * The terminal pane: xterm.js with fit, web-links and search, a toolbar (status, search,
 * copy, paste), search box, and the overlays for the session's lifecycle (reconnecting,
 * ended, taken over by another tab). One instance lives for the whole page so the shell
 * and its screen survive navigating between lessons.
 */
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal } from '@xterm/xterm';
import type { Announcer } from '../announcer.js';
import { api, UnauthorizedError } from '../api.js';
import { copyText, readText } from '../clipboard.js';
import { h, icon } from '../dom.js';
import type { ThemeName } from '../preferences.js';
import { type ConnectionState, TerminalConnection } from './connection.js';
import { searchDecorations, terminalThemes } from './themes.js';

/** Typing held behind a pending paste is kept up to this much (a learner does not type more). */
const MAX_HELD_INPUT_CHARS = 64 * 1024;
const FONT_FAMILY = "'JetBrains Mono Variable', ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'DejaVu Sans Mono', monospace";

export interface TerminalPanelOptions {
  theme: ThemeName;
  screenReaderMode: boolean;
  announcer: Announcer;
  onUnauthorized(): void;
  /** Ctrl+Shift+L: the shell takes Tab, so this is the keyboard's way out of the terminal. */
  onLeave(): void;
}

const STATUS_LABEL: Record<ConnectionState['kind'], string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  ended: 'Ended',
  detached: 'In another tab',
  unauthorized: 'Not authorized',
};

export class TerminalPanel {
  readonly element: HTMLElement;
  readonly terminal: Terminal;
  private readonly fit = new FitAddon();
  private readonly search = new SearchAddon({ highlightLimit: 500 });
  private readonly connection: TerminalConnection;
  private readonly host: HTMLElement;
  private readonly status: HTMLElement;
  private readonly notice: HTMLElement;
  private readonly searchBox: HTMLElement;
  private readonly searchInput: HTMLInputElement;
  private readonly searchCount: HTMLElement;
  private theme: ThemeName;
  private opened = false;
  private fitFrame = 0;
  private copyTimer = 0;
  private noticeTimer = 0;
  /** Pastes from the toolbar whose clipboard read has not settled yet, in click order. */
  private pasteQueue: Promise<void> = Promise.resolve();
  private pastesPending = 0;
  /** Keys typed while a paste is pending: they belong after the pasted text. */
  private heldInput: string[] = [];

  constructor(private readonly options: TerminalPanelOptions) {
    this.theme = options.theme;
    this.terminal = new Terminal({
      fontFamily: FONT_FAMILY,
      fontSize: 13.5,
      lineHeight: 1.25,
      cursorBlink: true,
      cursorStyle: 'bar',
      cursorInactiveStyle: 'outline',
      scrollback: 5000,
      allowProposedApi: true,
      screenReaderMode: options.screenReaderMode,
      theme: terminalThemes[this.theme],
      macOptionIsMeta: true,
      rightClickSelectsWord: true,
    });
    this.terminal.loadAddon(this.fit);
    this.terminal.loadAddon(this.search);
    this.terminal.loadAddon(
      new WebLinksAddon((event, uri) => {
        event.preventDefault();
        window.open(uri, '_blank', 'noopener,noreferrer');
      }),
    );

    this.status = h('span', { class: 'connection-status', 'data-state': 'connecting', 'data-testid': 'connection-status' });
    this.host = h('div', { class: 'terminal-host', 'data-testid': 'terminal' });
    this.notice = h('div', { class: 'terminal-notice', hidden: true, 'data-testid': 'terminal-notice' });
    this.searchInput = h('input', {
      type: 'search',
      class: 'search-input',
      placeholder: 'Find in terminal',
      'aria-label': 'Find in terminal',
      autocomplete: 'off',
      spellcheck: 'false',
    });
    this.searchCount = h('span', { class: 'search-count', 'aria-live': 'polite' });
    this.searchBox = this.buildSearchBox();
    this.element = h(
      'section',
      { class: 'terminal-pane', 'aria-label': 'Terminal' },
      h(
        'div',
        { class: 'pane-toolbar terminal-toolbar' },
        h('div', { class: 'pane-title' }, icon('terminal'), h('span', {}, 'Terminal'), this.status),
        h(
          'div',
          { class: 'toolbar-actions' },
          this.toolButton('search', 'Find (Ctrl+Shift+F)', () => this.openSearch()),
          this.toolButton('copy', 'Copy selection (Ctrl+Shift+C)', () => void this.copySelection()),
          this.toolButton('paste', 'Paste (Ctrl+Shift+V)', () => void this.pasteFromClipboard()),
        ),
      ),
      h('div', { class: 'terminal-body' }, this.host, this.searchBox, this.notice),
      h(
        'p',
        { id: 'terminal-keys', class: 'visually-hidden' },
        'Tab completes in the shell. Ctrl+Shift+L returns to the lesson, Ctrl+Shift+F searches, Ctrl+Shift+C copies, Ctrl+Shift+V pastes.',
      ),
    );

    this.terminal.attachCustomKeyEventHandler((event) => this.handleKey(event));
    this.terminal.onSelectionChange(() => this.copyOnSelect());
    this.search.onDidChangeResults(({ resultIndex, resultCount }) => {
      this.searchCount.textContent =
        resultCount === 0 ? 'No results' : resultIndex >= 0 ? `${resultIndex + 1} of ${resultCount}` : `${resultCount}+ results`;
    });

    this.connection = new TerminalConnection(
      {
        reset: () => this.terminal.reset(),
        write: (data, processed) => this.terminal.write(data, processed),
        size: () => ({ cols: this.terminal.cols, rows: this.terminal.rows }),
      },
      {
        url: terminalUrl(),
        onState: (state) => this.renderState(state),
        isUnauthorized: async () => {
          try {
            await api.info();
            return false;
          } catch (error) {
            return error instanceof UnauthorizedError;
          }
        },
        onLatency: (ms) => {
          this.status.title = `Round trip ${ms.toFixed(1)} ms`;
        },
      },
    );
    this.terminal.onData((data) => this.input(data));
    this.terminal.onBinary((data) => this.input(data));
    this.terminal.onResize(({ cols, rows }) => this.connection.resize(cols, rows));
    new ResizeObserver(() => this.scheduleFit()).observe(this.host);
  }

  /** Opens xterm into the page (once it is in the DOM and the font is ready) and connects. */
  async start(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    // xterm measures the cell size when it opens; measuring a fallback font misaligns the grid.
    await Promise.race([document.fonts.load(`13.5px ${FONT_FAMILY}`), delay(1500)]).catch(() => undefined);
    this.terminal.open(this.host);
    this.terminal.textarea?.setAttribute('aria-describedby', 'terminal-keys');
    this.fit.fit();
    this.connection.connect();
  }

  /**
   * A new shell once the server has ended this one (a step reset replaced the cluster and home):
   * at once if it has ended, else when the end arrives; the first one if none was started yet (a
   * page that opened the track for an instructor's reset waits for it). The ended card is not shown for it.
   */
  restart(): Promise<void> {
    this.quietConnect = true;
    const connected = new Promise<void>((resolve) => {
      this.onConnected = resolve;
      // A shell that cannot start says so in the terminal; the caller goes on regardless.
      window.setTimeout(resolve, 15_000);
    });
    if (!this.opened) void this.start();
    else if (this.connection.state.kind === 'ended' || this.connection.state.kind === 'detached') this.connection.connect();
    else this.restartOnEnd = true;
    return connected;
  }

  private restartOnEnd = false;
  /** The caller of restart() announces the outcome itself: no "Terminal connected." over it. */
  private quietConnect = false;
  private onConnected: (() => void) | null = null;

  get connectionState(): ConnectionState {
    return this.connection.state;
  }

  setTheme(theme: ThemeName): void {
    this.theme = theme;
    this.terminal.options.theme = terminalThemes[theme];
    if (!this.searchBox.hidden && this.searchInput.value) this.findNext();
  }

  setScreenReaderMode(enabled: boolean): void {
    this.terminal.options.screenReaderMode = enabled;
  }

  /** Types a command into the shell and runs it, as if the learner had typed it and pressed Enter. */
  run(command: string): boolean {
    const kind = this.connection.state.kind;
    if (kind === 'ended' || kind === 'detached' || kind === 'unauthorized') {
      this.flashNotice();
      this.options.announcer.announce(
        kind === 'ended' ? 'The shell has ended. Start a new shell first.' : 'The terminal is not connected here.',
      );
      return false;
    }
    const text = command.replace(/\r?\n$/, '').replace(/\r?\n/g, '\r');
    this.connection.sendInput(`${text}\r`);
    this.focus();
    return true;
  }

  focus(): void {
    this.terminal.focus();
  }

  /** Everything in the terminal buffer as plain text (scrollback included); for tests and tools. */
  text(): string {
    const buffer = this.terminal.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n').replace(/\s+$/, '');
  }

  scheduleFit(): void {
    if (!this.opened) return;
    cancelAnimationFrame(this.fitFrame);
    this.fitFrame = requestAnimationFrame(() => {
      if (this.host.offsetParent !== null) this.fit.fit();
    });
  }

  openSearch(): void {
    this.searchBox.hidden = false;
    const selection = this.terminal.getSelection();
    if (selection && !selection.includes('\n')) this.searchInput.value = selection;
    this.searchInput.focus();
    this.searchInput.select();
    if (this.searchInput.value) this.findNext();
  }

  private closeSearch(): void {
    this.searchBox.hidden = true;
    this.search.clearDecorations();
    this.searchCount.textContent = '';
    this.focus();
  }

  private findNext(backwards = false): void {
    const term = this.searchInput.value;
    if (!term) {
      this.search.clearDecorations();
      this.searchCount.textContent = '';
      return;
    }
    const colours = searchDecorations[this.theme];
    const options = {
      decorations: {
        matchBackground: colours.match,
        activeMatchBackground: colours.active,
        matchOverviewRuler: colours.match,
        activeMatchColorOverviewRuler: colours.active,
      },
    };
    if (backwards) this.search.findPrevious(term, options);
    else this.search.findNext(term, { ...options, incremental: true });
  }

  private buildSearchBox(): HTMLElement {
    this.searchInput.addEventListener('input', () => this.findNext());
    this.searchInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this.findNext(event.shiftKey);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        this.closeSearch();
      }
    });
    return h(
      'div',
      { class: 'terminal-search', role: 'search', hidden: true, 'data-testid': 'terminal-search' },
      this.searchInput,
      this.searchCount,
      this.toolButton('chevronUp', 'Previous match (Shift+Enter)', () => this.findNext(true)),
      this.toolButton('chevronDown', 'Next match (Enter)', () => this.findNext()),
      this.toolButton('close', 'Close search (Escape)', () => this.closeSearch()),
    );
  }

  private toolButton(name: Parameters<typeof icon>[0], label: string, action: () => void): HTMLButtonElement {
    return h('button', { type: 'button', class: 'icon-button', 'aria-label': label, title: label, on: { click: action } }, icon(name));
  }

  private handleKey(event: KeyboardEvent): boolean {
    const chord = (event.ctrlKey || event.metaKey) && event.shiftKey && !event.altKey;
    if (!chord) return true;
    switch (event.code) {
      case 'KeyC':
        if (event.type === 'keydown') {
          event.preventDefault();
          void this.copySelection();
        }
        return false;
      case 'KeyV':
        // The browser's own paste then fires a paste event, which xterm turns into input.
        return false;
      case 'KeyL':
        if (event.type === 'keydown') {
          event.preventDefault();
          this.options.onLeave();
        }
        return false;
      case 'KeyF':
        // Handled by the page-wide shortcut; xterm must not send it to the shell.
        return false;
      default:
        return true;
    }
  }

  private async copySelection(): Promise<void> {
    const selection = this.terminal.getSelection();
    if (!selection) {
      this.options.announcer.announce('Nothing selected in the terminal.');
      return;
    }
    const ok = await copyText(selection);
    this.options.announcer.announce(ok ? 'Copied to the clipboard.' : 'The browser refused access to the clipboard.');
  }

  private copyOnSelect(): void {
    window.clearTimeout(this.copyTimer);
    if (!this.terminal.hasSelection()) return;
    // Selecting is copying, as in most terminals; wait for the drag to settle.
    this.copyTimer = window.setTimeout(() => {
      const selection = this.terminal.getSelection();
      if (selection && navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(selection).catch(() => undefined);
      }
    }, 250);
  }

  private input(data: string): void {
    if (this.pastesPending > 0) {
      if (this.heldInput.reduce((n, d) => n + d.length, 0) + data.length <= MAX_HELD_INPUT_CHARS) this.heldInput.push(data);
      return;
    }
    this.connection.sendInput(data);
  }

  /**
   * The toolbar's Paste. The terminal takes focus at once: otherwise the button keeps it while the
   * clipboard is read, and an Enter pressed meanwhile clicks Paste again (a double paste, and the
   * Enter lost). Keys typed before the read settles are held and follow the pasted text.
   */
  private pasteFromClipboard(): Promise<void> {
    this.focus();
    this.pastesPending += 1;
    const read = readText();
    this.pasteQueue = this.pasteQueue.then(async () => {
      const text = await read;
      this.pastesPending -= 1;
      try {
        if (text === null) this.options.announcer.announce('The browser blocked clipboard access: press Ctrl+Shift+V in the terminal to paste.');
        else this.terminal.paste(text);
      } finally {
        if (this.pastesPending === 0) {
          const held = this.heldInput.join('');
          this.heldInput = [];
          if (held) this.connection.sendInput(held);
        }
      }
    });
    return this.pasteQueue;
  }

  private renderState(state: ConnectionState): void {
    const previous = this.status.dataset.state;
    this.status.dataset.state = state.kind;
    this.status.textContent = STATUS_LABEL[state.kind];
    this.element.dataset.connection = state.kind;
    window.clearTimeout(this.noticeTimer);
    this.notice.replaceChildren();
    this.notice.hidden = true;
    this.notice.className = 'terminal-notice';

    switch (state.kind) {
      case 'connecting':
        // Only when it takes a moment (the first shell may wait for its cluster): no flash otherwise.
        this.noticeTimer = window.setTimeout(() => {
          this.showNotice('center', h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, 'Starting your shell…'));
        }, 400);
        break;
      case 'connected':
        if (previous !== 'connected' && !this.quietConnect) this.options.announcer.announce('Terminal connected.');
        if (previous !== 'connected' && this.onConnected && !this.restartOnEnd) {
          this.quietConnect = false;
          this.onConnected();
          this.onConnected = null;
        }
        break;
      case 'reconnecting': {
        if (previous !== 'reconnecting') this.options.announcer.announce('Terminal connection lost. Reconnecting…');
        const countdown = h('span', {});
        const tick = () => {
          const seconds = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
          countdown.textContent = seconds > 0 ? `Reconnecting in ${seconds} s…` : 'Reconnecting…';
          if (seconds > 0) this.noticeTimer = window.setTimeout(tick, 250);
        };
        tick();
        this.showNotice(
          'banner',
          h('strong', {}, 'Connection lost.'),
          countdown,
          h('span', { class: 'notice-detail' }, 'Your shell keeps running on the server.'),
          this.noticeButton('Retry now', () => this.connection.connect()),
        );
        break;
      }
      case 'ended': {
        if (this.restartOnEnd) {
          this.restartOnEnd = false;
          this.connection.connect();
          break;
        }
        const how = state.signal ? `killed by signal ${state.signal}` : `exit code ${state.code ?? 0}`;
        this.options.announcer.announce(`The shell has ended (${how}).`);
        this.showNotice(
          'card',
          h('strong', {}, 'The shell has ended'),
          h('span', { class: 'notice-detail' }, `It exited with ${how}. Files in your work directory are kept.`),
          this.noticeButton('Start a new shell', () => this.connection.connect(), true),
        );
        break;
      }
      case 'detached':
        this.options.announcer.announce('The terminal was opened in another tab.');
        this.showNotice(
          'card',
          h('strong', {}, 'Opened in another tab'),
          h('span', { class: 'notice-detail' }, 'Your terminal is now attached to another browser tab or window.'),
          this.noticeButton('Use it here', () => this.connection.connect(), true),
        );
        break;
      case 'unauthorized':
        this.options.announcer.announce('Not authorized. Open the URL printed by the server.');
        this.showNotice(
          'card',
          h('strong', {}, 'Not authorized'),
          h('span', { class: 'notice-detail' }, 'Open the URL printed by the server (it ends in ?token=…) to sign in again.'),
        );
        this.options.onUnauthorized();
        break;
    }
  }

  private showNotice(style: 'banner' | 'card' | 'center', ...content: (Node | string)[]): void {
    this.notice.className = `terminal-notice notice-${style}`;
    if (style === 'card') this.notice.setAttribute('role', 'alertdialog');
    else this.notice.removeAttribute('role');
    this.notice.replaceChildren(h('div', { class: 'notice-content' }, ...content));
    this.notice.hidden = false;
  }

  private noticeButton(label: string, action: () => void, primary = false): HTMLButtonElement {
    return h('button', { type: 'button', class: primary ? 'button button-primary' : 'button', on: { click: action } }, label);
  }

  private flashNotice(): void {
    const button = this.notice.querySelector('button');
    this.notice.classList.remove('flash');
    void this.notice.offsetWidth;
    this.notice.classList.add('flash');
    button?.focus();
  }
}

function terminalUrl(): string {
  const url = new URL('ws/terminal', document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  return url.toString();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}
