/**
 * The instructor's page (/admin): workshops (create, close, delete, join links) and each
 * workshop's live dashboard (#/w/<id>): the learners × steps grid pushed by the server, one
 * learner's details with a read-only view of their terminal and resets, a broadcast to all
 * learners, and the results' export.
 */
import { Announcer } from '../announcer.js';
import { h } from '../dom.js';
import { ThemeController } from '../theme.js';
import { AdminApiError, adminApi, dashboardEventsUrl, exportUrl, resetEventsUrl, type Dashboard, type DashboardLearner, type ResetStatus, type WorkshopSummary } from './api.js';
import { LearnerGrid } from './grid.js';
import { TerminalWatch } from './watch.js';

/** Read-only hooks for the browser tests. */
export interface AdminHooks {
  watchText(): string;
  /** Dashboard updates received so far. */
  updates(): number;
}
declare global {
  interface Window {
    __admin?: AdminHooks;
  }
}

const errorText = (e: unknown) => (e instanceof AdminApiError || e instanceof Error ? e.message : String(e));
const joinUrl = (path: string) => new URL(path, location.origin).href;

class AdminApp {
  private readonly main: HTMLElement;
  private readonly announcer = new Announcer();
  private cleanup: (() => void) | null = null;
  private watch: TerminalWatch | null = null;
  private updates = 0;

  constructor(root: HTMLElement) {
    new ThemeController();
    this.main = h('main', { id: 'main', class: 'admin-main', tabindex: -1 });
    root.replaceChildren(
      h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '#/' }, h('span', { class: 'brand-name' }, 'Istio Playground · Instructor'))),
      this.main,
      this.announcer.element,
    );
    window.addEventListener('hashchange', () => void this.route());
    window.__admin = { watchText: () => this.watch?.text() ?? '', updates: () => this.updates };
  }

  async route(): Promise<void> {
    this.cleanup?.();
    this.cleanup = null;
    this.watch?.destroy();
    this.watch = null;
    const m = /^#\/w\/([^/]+)$/.exec(location.hash);
    try {
      if (m) await this.showDashboard(decodeURIComponent(m[1]!));
      else await this.showList();
    } catch (e) {
      this.main.replaceChildren(h('h1', { tabindex: -1 }, 'Something went wrong'), h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
    }
  }

  private async showList(): Promise<void> {
    const [{ workshops }, { tracks }] = await Promise.all([adminApi.workshops(), adminApi.tracks()]);
    document.title = 'Workshops · Istio Playground';
    const status = h('p', { class: 'form-status', role: 'status', 'data-testid': 'create-status' });
    const title = h('input', { id: 'ws-title', name: 'title', required: true, maxlength: 120, 'data-testid': 'ws-title' });
    const capacity = h('input', { id: 'ws-capacity', name: 'capacity', type: 'number', min: 1, max: 1000, value: 30, required: true, 'data-testid': 'ws-capacity' });
    const hours = h('input', { id: 'ws-hours', name: 'hours', type: 'number', min: 1, max: 720, value: 8, required: true, 'data-testid': 'ws-hours' });
    const trackBoxes = tracks.map((t) =>
      h('label', { class: 'check-option' }, h('input', { type: 'checkbox', name: 'tracks', value: t.id, 'data-testid': `ws-track-${t.id}` }), ` ${t.title} `, h('code', {}, t.id)),
    );
    const form = h(
      'form',
      { class: 'admin-form', 'aria-labelledby': 'create-heading', novalidate: true },
      h('h2', { id: 'create-heading' }, 'New workshop'),
      h('label', { for: 'ws-title' }, 'Title'),
      title,
      h('fieldset', {}, h('legend', {}, 'Tracks'), ...trackBoxes),
      h('div', { class: 'form-row' }, h('div', {}, h('label', { for: 'ws-capacity' }, 'Seats'), capacity), h('div', {}, h('label', { for: 'ws-hours' }, 'Expires after (hours)'), hours)),
      h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'ws-create' }, 'Create workshop'),
      status,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const chosen = trackBoxes.map((l) => l.querySelector('input')!).filter((i) => i.checked).map((i) => i.value);
      try {
        const w = await adminApi.create({ title: title.value, tracks: chosen, capacity: Number(capacity.value), expiresInMinutes: Math.round(Number(hours.value) * 60) });
        location.hash = `#/w/${encodeURIComponent(w.id)}`;
      } catch (e) {
        status.textContent = errorText(e);
        status.className = 'form-status form-error';
      }
    });
    const rows = workshops.map((w) => this.workshopRow(w));
    this.main.replaceChildren(
      h('h1', { tabindex: -1 }, 'Workshops'),
      workshops.length
        ? h(
            'table',
            { class: 'admin-table', 'data-testid': 'workshop-list' },
            h('caption', { class: 'visually-hidden' }, 'Your workshops'),
            h('thead', {}, h('tr', {}, ...['Workshop', 'Status', 'Learners', 'Expires', 'Join link', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, ...rows),
          )
        : h('p', {}, 'No workshops yet.'),
      form,
    );
    this.main.querySelector<HTMLElement>('h1')?.focus();
  }

  private workshopRow(w: WorkshopSummary): HTMLElement {
    const close = h('button', { type: 'button', class: 'button button-sm', disabled: w.status !== 'open' }, 'Close joining');
    close.addEventListener('click', async () => {
      await adminApi.close(w.id);
      this.announcer.announce(`${w.title}: joining closed.`);
      await this.route();
    });
    const remove = h('button', { type: 'button', class: 'button button-sm button-danger' }, 'Delete');
    remove.addEventListener('click', async () => {
      if (!window.confirm(`Delete “${w.title}”? Its learners lose access.`)) return;
      await adminApi.remove(w.id);
      this.announcer.announce(`${w.title} deleted.`);
      await this.route();
    });
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('a', { href: `#/w/${encodeURIComponent(w.id)}` }, w.title)),
      h('td', {}, w.status),
      h('td', {}, `${w.members ?? 0} / ${w.capacity}`),
      h('td', {}, new Date(w.expiresAt).toLocaleString()),
      h('td', {}, h('code', { class: 'join-link' }, joinUrl(w.joinPath))),
      h('td', { class: 'actions' }, close, remove),
    );
  }

  private async showDashboard(id: string): Promise<void> {
    const grid = new LearnerGrid((learnerId, step) => this.selectLearner(learnerId, step));
    const header = h('div', { class: 'dash-header' });
    const detail = h('section', { class: 'learner-detail', 'aria-label': 'Selected learner', 'data-testid': 'learner-detail', hidden: true });
    const actionStatus = h('p', { class: 'form-status', role: 'status', 'data-testid': 'action-status' });
    // Failures get a region of their own: an alert is announced at once, a status politely.
    const actionError = h('p', { class: 'form-status form-error', role: 'alert', 'data-testid': 'action-error' });
    const message = h('input', { id: 'broadcast-message', maxlength: 500, 'data-testid': 'broadcast-input' });
    const broadcast = h(
      'form',
      { class: 'broadcast-form', 'aria-label': 'Message to all learners' },
      h('label', { for: 'broadcast-message' }, 'Message to all learners'),
      h('div', { class: 'inline-form' }, message, h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'broadcast-send' }, 'Send')),
    );
    broadcast.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await adminApi.broadcast(id, message.value);
        actionStatus.textContent = 'Message sent to every learner.';
        message.value = '';
      } catch (e) {
        actionStatus.textContent = errorText(e);
      }
    });
    this.main.replaceChildren(
      h('p', {}, h('a', { href: '#/' }, '← All workshops')),
      header,
      broadcast,
      actionStatus,
      actionError,
      h('h2', {}, 'Learners'),
      grid.element,
      detail,
    );
    this.state = { id, grid, header, detail, actionStatus, actionError, selected: null, dashboard: null };
    const events = new EventSource(dashboardEventsUrl(id));
    events.addEventListener('dashboard', (event) => {
      this.updates++;
      this.render(JSON.parse((event as MessageEvent<string>).data) as Dashboard);
    });
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED) actionStatus.textContent = 'Live updates stopped: reload the page.';
    };
    this.cleanup = () => {
      events.close();
      this.resetEvents?.close();
      this.resetEvents = null;
      grid.destroy();
      this.state = null;
    };
  }

  private resetEvents: EventSource | null = null;

  /** The reset's progress, then how it ended, from the server (it runs on after the request was answered). */
  private followReset(workshopId: string, learner: DashboardLearner, title: string, started: ResetStatus): void {
    this.resetEvents?.close();
    const events = new EventSource(resetEventsUrl(workshopId, learner.id));
    this.resetEvents = events;
    events.addEventListener('reset', (event) => {
      const s = this.state;
      const status = JSON.parse((event as MessageEvent<string>).data) as ResetStatus;
      if (!s || status.startedAt < started.startedAt) return;
      if (status.phase === 'done' || status.phase === 'failed') {
        events.close();
        if (this.resetEvents === events) this.resetEvents = null;
      }
      if (status.phase === 'failed') {
        s.actionStatus.textContent = '';
        s.actionError.textContent = `${learner.name}: the reset of “${title}” failed: ${status.error ?? status.message}`;
      } else if (status.phase === 'done') {
        s.actionStatus.textContent = `${learner.name}: “${title}” reset; their cluster and files are at its start, and they have a fresh terminal.`;
      } else {
        // The learner's own words (their page shows the same), for what is happening now.
        s.actionStatus.textContent = `${learner.name}: ${status.message}`;
      }
    });
  }

  private state: {
    id: string;
    grid: LearnerGrid;
    header: HTMLElement;
    detail: HTMLElement;
    actionStatus: HTMLElement;
    actionError: HTMLElement;
    selected: { learnerId: string; step?: { trackId: string; stepId: string } } | null;
    dashboard: Dashboard | null;
  } | null = null;

  private render(d: Dashboard): void {
    const s = this.state;
    if (!s) return;
    const first = s.dashboard === null;
    s.dashboard = d;
    document.title = `${d.workshop.title} · Instructor`;
    const stuck = d.learners.filter((l) => l.stuck).length;
    s.header.replaceChildren(
      h('h1', { tabindex: -1 }, d.workshop.title),
      h(
        'p',
        { class: 'dash-facts' },
        `${d.workshop.status} · ${d.learners.length} / ${d.workshop.capacity} learners · ${stuck} stuck · expires ${new Date(d.workshop.expiresAt).toLocaleString()}`,
      ),
      h('p', {}, 'Join link: ', h('code', { class: 'join-link', 'data-testid': 'join-link' }, joinUrl(d.workshop.joinPath))),
      h(
        'p',
        { class: 'exports' },
        'Results: ',
        h('a', { href: exportUrl(d.workshop.id, 'csv'), download: '', 'data-testid': 'export-csv' }, 'CSV'),
        ' · ',
        h('a', { href: exportUrl(d.workshop.id, 'xml'), download: '', 'data-testid': 'export-junit' }, 'JUnit XML'),
      ),
    );
    s.grid.update(d);
    if (s.selected) this.renderDetail();
    if (first) s.header.querySelector<HTMLElement>('h1')?.focus();
  }

  private selectLearner(learnerId: string, step?: { trackId: string; stepId: string }): void {
    const s = this.state;
    if (!s) return;
    if (s.selected?.learnerId !== learnerId) {
      this.watch?.destroy();
      this.watch = null;
    }
    s.selected = { learnerId, ...(step ? { step } : {}) };
    s.detail.replaceChildren();
    this.renderDetail();
    s.detail.querySelector<HTMLElement>('h2')?.focus();
  }

  private renderDetail(): void {
    const s = this.state!;
    const d = s.dashboard!;
    const learner = d.learners.find((l) => l.id === s.selected!.learnerId);
    if (!learner) {
      s.detail.hidden = true;
      return;
    }
    s.detail.hidden = false;
    // The replica holding this learner's terminal and cluster has gone silent: nothing reaches them
    // until it is back (a live one is reached through this replica, which forwards).
    const unreachable = learner.unreachable;
    const onlyThere = unreachable ? { disabled: true, 'aria-describedby': 'elsewhere-note' } : {};
    const steps = d.tracks.flatMap((t) => t.steps.map((st) => ({ value: `${t.id}\u0000${st.id}`, label: `${t.title}: ${st.title}` })));
    // An update must not undo the instructor's choice in the open form.
    const chosen = s.detail.querySelector<HTMLSelectElement>('#reset-step-select')?.value.split('\u0000');
    const preselect = chosen?.length === 2 ? { trackId: chosen[0]!, stepId: chosen[1]! } : (s.selected!.step ?? learner.current ?? undefined);
    const stepSelect = h(
      'select',
      { id: 'reset-step-select', 'data-testid': 'reset-step-select' },
      ...steps.map((o) => h('option', { value: o.value, selected: preselect !== undefined && o.value === `${preselect.trackId}\u0000${preselect.stepId}` }, o.label)),
    );
    const resetStep = h('button', { type: 'button', class: 'button', 'data-testid': 'reset-step', ...onlyThere }, 'Reset step');
    resetStep.addEventListener('click', async () => {
      const [trackId, stepId] = stepSelect.value.split('\u0000') as [string, string];
      const title = d.tracks.find((t) => t.id === trackId)?.steps.find((st) => st.id === stepId)?.title ?? stepId;
      s.actionError.textContent = '';
      s.actionStatus.textContent = `${learner.name}: resetting “${title}”…`;
      try {
        this.followReset(d.workshop.id, learner, title, await adminApi.resetStep(d.workshop.id, learner.id, trackId, stepId));
      } catch (e) {
        s.actionStatus.textContent = '';
        s.actionError.textContent = `${learner.name}: the reset of “${title}” did not start: ${errorText(e)}`;
      }
    });
    const resetCluster = h('button', { type: 'button', class: 'button button-danger', 'data-testid': 'reset-cluster', ...onlyThere }, 'Reset cluster…');
    resetCluster.addEventListener('click', async () => {
      if (!window.confirm(`Wipe ${learner.name}'s cluster and start it again empty?`)) return;
      s.actionStatus.textContent = `${learner.name}: resetting the cluster…`;
      try {
        await adminApi.resetCluster(d.workshop.id, learner.id);
        s.actionStatus.textContent = `${learner.name}: cluster reset.`;
      } catch (e) {
        s.actionStatus.textContent = errorText(e);
      }
    });
    const watchButton = h(
      'button',
      { type: 'button', class: 'button button-secondary', 'aria-pressed': this.watch ? 'true' : 'false', 'data-testid': 'watch-toggle', ...onlyThere },
      this.watch ? 'Stop watching' : 'Watch terminal',
    );
    const watchSlot = h('div', { class: 'watch-slot' });
    watchButton.addEventListener('click', () => {
      if (this.watch) {
        this.watch.destroy();
        this.watch = null;
      } else {
        this.watch = new TerminalWatch(d.workshop.id, learner.id, learner.name);
      }
      this.renderDetail();
      s.detail.querySelector<HTMLElement>('[data-testid="watch-toggle"]')?.focus();
    });
    if (this.watch) watchSlot.append(this.watch.element);
    const current = learner.current ? d.tracks.find((t) => t.id === learner.current!.trackId)?.steps.find((st) => st.id === learner.current!.stepId)?.title : undefined;
    // Keep the live terminal element (and focus) when only the facts changed.
    const keepFocus = s.detail.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.testid : undefined;
    s.detail.replaceChildren(
      h('h2', { tabindex: -1 }, learner.name),
      h('p', {}, current ? `On “${current}”. ` : 'Not started. ', learner.stuck ? `Looks stuck: ${learner.stuckReasons.join(', ')}. ` : '', `${learner.doneCount} step${learner.doneCount === 1 ? '' : 's'} done. `, learner.hintsOpened ? `${learner.hintsOpened} hint${learner.hintsOpened === 1 ? '' : 's'} opened on this step. ` : '', learner.terminal ? 'Terminal open.' : 'No terminal open yet.'),
      ...(unreachable
        ? [
            h(
              'p',
              { id: 'elsewhere-note', class: 'note', 'data-testid': 'elsewhere-note' },
              `${learner.name} works on a playground pod that is unreachable (${unreachable}: it stopped answering). Their terminal, cluster and files are there: watching their terminal and resetting their step or cluster work again once it is back.`,
            ),
          ]
        : []),
      h('div', { class: 'inline-form' }, watchButton),
      watchSlot,
      h('div', { class: 'inline-form' }, h('label', { for: 'reset-step-select' }, 'Step'), stepSelect, resetStep, resetCluster),
    );
    if (keepFocus) s.detail.querySelector<HTMLElement>(`[data-testid="${keepFocus}"]`)?.focus();
  }
}

const root = document.getElementById('app');
if (root) void new AdminApp(root).route();
