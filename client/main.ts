/**
 * The browser app: header, routing between the track list and a track, one terminal for the
 * page's lifetime, global preferences (theme, screen-reader mode) and the test hook.
 */
import { Announcer } from './announcer.js';
import { ApiError, type InstructorReset, type ServerInfo, type TrackSummary, UnauthorizedError, api } from './api.js';
import { h, icon } from './dom.js';
import { readPreference, writePreference } from './preferences.js';
import { type Route, parseRoute, trackHref } from './router.js';
import type { PlaygroundHooks } from './test-hooks.js';
import { TerminalPanel } from './terminal/terminal-panel.js';
import { ThemeController } from './theme.js';
import { ClusterStatusView } from './views/cluster-status.js';
import { errorView, unauthorizedView } from './views/common.js';
import { renderTrackList } from './views/track-list.js';
import { TrackView } from './views/track-view.js';
import { WorkshopBanner } from './workshop-banner.js';

const SCREEN_READER_KEY = 'screen-reader-mode';

class App {
  private readonly theme = new ThemeController();
  private readonly announcer = new Announcer();
  private readonly workshopBanner = new WorkshopBanner((reset) => this.instructorReset(reset));
  /** An instructor's reset of a track not open yet: followed once its view is made. */
  private pendingReset: InstructorReset | null = null;
  private readonly main: HTMLElement;
  private readonly crumbs: HTMLElement;
  private readonly backendBadge: HTMLElement;
  private readonly clusterStatus = new ClusterStatusView((message) => this.announcer.announce(message));
  private readonly themeButton: HTMLButtonElement;
  private readonly screenReaderButton: HTMLButtonElement;
  private screenReaderMode = readPreference(SCREEN_READER_KEY) === 'on';
  private terminal: TerminalPanel | null = null;
  private trackView: TrackView | null = null;
  private info: ServerInfo | null = null;
  private unauthorized = false;
  /** Drops results of a navigation overtaken by a newer one. */
  private navigation = 0;

  constructor(private readonly root: HTMLElement) {
    this.main = h(
      'main',
      { id: 'main', class: 'main', tabindex: -1 },
      h('div', { class: 'page-loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'),
    );
    this.crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' });
    this.backendBadge = h('span', { class: 'backend-badge', hidden: true, 'data-testid': 'backend' });
    this.themeButton = h('button', {
      type: 'button',
      class: 'icon-button',
      'data-testid': 'theme-toggle',
      on: { click: () => this.theme.toggle() },
    });
    this.screenReaderButton = h('button', {
      type: 'button',
      class: 'icon-button',
      'aria-label': 'Screen reader mode for the terminal',
      title: 'Screen reader mode for the terminal',
      'data-testid': 'screen-reader-toggle',
      on: { click: () => this.toggleScreenReaderMode() },
    }, icon('accessibility'));
    this.renderThemeButton();
    this.renderScreenReaderButton();
    this.theme.onChange((theme) => {
      this.renderThemeButton();
      this.terminal?.setTheme(theme);
      this.announcer.announce(`${theme === 'dark' ? 'Dark' : 'Light'} theme.`);
    });

    root.replaceChildren(
      h(
        'header',
        { class: 'topbar' },
        h('a', { class: 'brand', href: '#/' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, brandMark()), h('span', { class: 'brand-name' }, 'Istio Playground')),
        this.crumbs,
        h('div', { class: 'topbar-actions' }, this.clusterStatus.element, this.backendBadge, this.screenReaderButton, this.themeButton),
      ),
      this.workshopBanner.element,
      this.main,
      this.announcer.element,
    );

    document.querySelector('.skip-link')?.addEventListener('click', (event) => {
      event.preventDefault();
      // In a track the lesson scrolls, not the page: focus it so the keyboard scrolls it.
      (this.main.querySelector<HTMLElement>('.lesson-scroll') ?? this.main).focus();
    });
    document.addEventListener('keydown', (event) => {
      const chord = (event.ctrlKey || event.metaKey) && event.shiftKey && !event.altKey;
      if (chord && event.code === 'KeyF' && this.trackView && this.terminal) {
        event.preventDefault();
        this.terminal.openSearch();
      }
    });
    window.addEventListener('hashchange', () => void this.route());
  }

  async start(): Promise<void> {
    stripTokenFromUrl();
    try {
      this.info = await api.info();
    } catch (error) {
      this.showError(error);
      return;
    }
    void this.workshopBanner.start();
    this.backendBadge.hidden = false;
    this.backendBadge.replaceChildren(h('span', { class: 'backend-dot', 'aria-hidden': 'true' }), `${this.info.backend.name} cluster`);
    this.backendBadge.title = this.info.backend.description;
    this.clusterStatus.watch();
    await this.route();
  }

  /** Read-only hooks for end-to-end tests and curious users. */
  testHooks(): PlaygroundHooks {
    return {
      terminalText: () => this.terminal?.text() ?? '',
      connectionState: () => this.terminal?.connectionState.kind ?? 'none',
      terminalSize: () => (this.terminal ? { cols: this.terminal.terminal.cols, rows: this.terminal.terminal.rows } : null),
    };
  }

  private async route(): Promise<void> {
    if (this.unauthorized || !this.info) return;
    const navigation = ++this.navigation;
    const route = parseRoute(location.hash);
    try {
      await this.show(route, navigation);
    } catch (error) {
      if (navigation === this.navigation) this.showError(error);
    }
  }

  private async show(route: Route, navigation: number): Promise<void> {
    const info = this.info!;
    if (route.name === 'tracks') {
      const view = await renderTrackList(info);
      if (navigation !== this.navigation) return;
      this.leaveTrack();
      this.setCrumbs([]);
      this.mount(view, 'Tracks');
      return;
    }
    if (route.name === 'not-found') {
      this.leaveTrack();
      this.setCrumbs([]);
      this.mount(errorView('Page not found', `There is nothing at “${route.path}”.`, { label: 'All tracks', href: '#/' }), 'Page not found');
      return;
    }

    if (this.trackView?.trackId !== route.trackId) {
      const [track, list, progress] = await Promise.all([api.track(route.trackId), api.tracks(), api.progress(route.trackId)]);
      if (navigation !== this.navigation) return;
      this.leaveTrack();
      const summary: TrackSummary | undefined = list.tracks.find((candidate) => candidate.id === track.id);
      this.trackView = new TrackView({
        track,
        summary,
        progress,
        info,
        terminal: this.ensureTerminal(),
        announcer: this.announcer,
        onUnauthorized: () => this.showUnauthorized(),
      });
      this.main.replaceChildren(this.trackView.element);
      this.main.classList.add('is-workspace');
      this.setCrumbs([{ label: 'Tracks', href: '#/' }, { label: track.title }]);
      document.title = `${track.title} · Istio Playground`;
      const reset = this.pendingReset?.trackId === track.id ? this.pendingReset : null;
      this.pendingReset = null;
      // During an instructor's reset the shell would start on the state being replaced: the reset starts it after.
      if (reset) this.trackView.followReset(reset.stepId, reset.startedAt);
      else void this.terminal!.start();
      this.terminal!.scheduleFit();
    }
    const shown = this.trackView!.show(route.stepId);
    if (shown && shown !== route.stepId) {
      // `#/track/ID` resumes at the saved step; keep the address precise without a history entry.
      history.replaceState(null, '', trackHref(route.trackId, shown));
    }
  }

  /** The instructor reset one of this learner's steps: the page goes to its track and follows the reset there. */
  private instructorReset(reset: InstructorReset): void {
    if (this.unauthorized || !this.info) return;
    if (this.trackView?.trackId === reset.trackId) {
      this.trackView.followReset(reset.stepId, reset.startedAt);
      return;
    }
    this.pendingReset = reset;
    location.hash = trackHref(reset.trackId, reset.stepId);
  }

  private ensureTerminal(): TerminalPanel {
    this.terminal ??= new TerminalPanel({
      theme: this.theme.current,
      screenReaderMode: this.screenReaderMode,
      announcer: this.announcer,
      onUnauthorized: () => this.showUnauthorized(),
      onLeave: () => this.main.querySelector<HTMLElement>('.lesson-title')?.focus(),
    });
    return this.terminal;
  }

  private leaveTrack(): void {
    this.trackView?.destroy();
    this.trackView = null;
    this.main.classList.remove('is-workspace');
  }

  private mount(view: HTMLElement, title: string): void {
    this.main.replaceChildren(view);
    document.title = title === 'Tracks' ? 'Istio Playground' : `${title} · Istio Playground`;
    window.scrollTo(0, 0);
    view.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
  }

  private setCrumbs(items: { label: string; href?: string }[]): void {
    this.crumbs.replaceChildren(
      ...items.flatMap((item, i) => [
        h('span', { class: 'crumb-separator', 'aria-hidden': 'true' }, '/'),
        item.href
          ? h('a', { class: 'crumb', href: item.href }, item.label)
          : h('span', { class: 'crumb', 'aria-current': i === items.length - 1 ? 'page' : null }, item.label),
      ]),
    );
  }

  private showError(error: unknown): void {
    if (error instanceof UnauthorizedError) {
      this.showUnauthorized();
      return;
    }
    this.leaveTrack();
    if (error instanceof ApiError && error.status === 404) {
      this.mount(errorView('Not found', error.message, { label: 'All tracks', href: '#/' }), 'Not found');
      return;
    }
    console.error(error);
    const message = error instanceof Error ? error.message : String(error);
    this.mount(errorView('Something went wrong', message, { label: 'Try again', onClick: () => location.reload() }), 'Error');
  }

  private showUnauthorized(): void {
    if (this.unauthorized) return;
    this.unauthorized = true;
    this.leaveTrack();
    this.setCrumbs([]);
    this.mount(unauthorizedView(), 'Not authorized');
    this.announcer.announce('Not authorized. Open the URL printed by the server.');
  }

  private toggleScreenReaderMode(): void {
    this.screenReaderMode = !this.screenReaderMode;
    writePreference(SCREEN_READER_KEY, this.screenReaderMode ? 'on' : null);
    this.terminal?.setScreenReaderMode(this.screenReaderMode);
    this.renderScreenReaderButton();
    this.announcer.announce(`Terminal screen reader mode ${this.screenReaderMode ? 'on' : 'off'}.`);
  }

  private renderScreenReaderButton(): void {
    this.screenReaderButton.setAttribute('aria-pressed', String(this.screenReaderMode));
  }

  private renderThemeButton(): void {
    const dark = this.theme.current === 'dark';
    this.themeButton.replaceChildren(icon(dark ? 'sun' : 'moon'));
    this.themeButton.setAttribute('aria-label', 'Dark theme');
    this.themeButton.setAttribute('aria-pressed', String(dark));
    this.themeButton.title = dark ? 'Switch to the light theme' : 'Switch to the dark theme';
  }
}

/** The token was exchanged for a cookie; keep it out of the address bar, history and screenshots. */
function stripTokenFromUrl(): void {
  const url = new URL(location.href);
  if (!url.searchParams.has('token')) return;
  url.searchParams.delete('token');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

function brandMark(): SVGSVGElement {
  const svg = icon('play', 'brand-svg');
  svg.setAttribute('viewBox', '0 0 32 32');
  svg.replaceChildren();
  for (const [d, opacity] of [
    ['M15 5 8 19h7z', '1'],
    ['M17 9v10h6z', '.8'],
    ['M9 23h14l-7 4z', '.8'],
  ] as const) {
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', d);
    path.setAttribute('opacity', opacity);
    svg.append(path);
  }
  return svg;
}

const root = document.getElementById('app');
if (root) {
  const app = new App(root);
  window.__playground = app.testHooks();
  void app.start();
}
