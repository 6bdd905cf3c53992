/**
 * The learners × steps grid, an ARIA grid with one tab stop: arrow keys move between cells,
 * Home/End to a row's ends, Ctrl+Home/End to the grid's corners, Enter or Space on a row opens
 * that learner. Rebuilt on every update with the focused cell kept.
 */
import { h } from '../dom.js';
import type { CellState, Dashboard, DashboardLearner } from './api.js';

const CELL_TEXT: Record<CellState, { symbol: string; label: string }> = {
  done: { symbol: '✓', label: 'done' },
  failing: { symbol: '✗', label: 'checks failing' },
  unreachable: { symbol: '!', label: 'cluster unreachable' },
  current: { symbol: '●', label: 'current step' },
  todo: { symbol: '·', label: 'not started' },
};

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  const hours = Math.floor(m / 60);
  if (hours > 0) return `${hours} h ${String(m % 60).padStart(2, '0')} min`;
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

export class LearnerGrid {
  readonly element: HTMLElement;
  private readonly table: HTMLTableElement;
  private active: { row: number; col: number } = { row: 0, col: 0 };
  private clockOffset = 0;
  private dashboard: Dashboard | null = null;
  private readonly timer: number;

  constructor(private readonly onOpen: (learnerId: string, step?: { trackId: string; stepId: string }) => void) {
    this.table = h('table', { class: 'learner-grid', role: 'grid', 'aria-label': 'Learners and their steps', 'data-testid': 'learner-grid' });
    this.table.addEventListener('keydown', (event) => this.onKey(event));
    this.table.addEventListener('click', (event) => {
      const cell = (event.target as HTMLElement).closest<HTMLElement>('[data-row]');
      if (!cell) return;
      this.focusCell(Number(cell.dataset.row), Number(cell.dataset.col));
      this.open(cell);
    });
    this.element = h('div', { class: 'grid-scroll' }, this.table);
    // Time on the current step ticks here, between the server's updates.
    this.timer = window.setInterval(() => this.tick(), 1000);
  }

  update(d: Dashboard): void {
    this.dashboard = d;
    this.clockOffset = Date.now() - Date.parse(d.generatedAt);
    const hadFocus = this.table.contains(document.activeElement);
    const steps = d.tracks.flatMap((t) => t.steps.map((s, i) => ({ track: t, step: s, index: i })));
    const groupRow = h(
      'tr',
      { role: 'row' },
      h('td', { colspan: 2, role: 'presentation' }),
      ...d.tracks.map((t) => h('th', { colspan: t.steps.length, scope: 'colgroup', class: 'track-head' }, t.title)),
    );
    const headRow = h(
      'tr',
      { role: 'row' },
      h('th', { scope: 'col', role: 'columnheader' }, 'Learner'),
      h('th', { scope: 'col', role: 'columnheader' }, 'On current step'),
      ...steps.map(({ track, step, index }) =>
        h('th', { scope: 'col', role: 'columnheader', class: 'step-head', title: `${track.title}: ${step.title}` }, h('span', { 'aria-hidden': 'true' }, String(index + 1)), h('span', { class: 'visually-hidden' }, `${track.title}, step ${index + 1}: ${step.title}`)),
      ),
    );
    const rows = d.learners.map((l, r) => this.row(l, r, steps));
    if (d.learners.length === 0) {
      rows.push(h('tr', { role: 'row' }, h('td', { role: 'gridcell', colspan: steps.length + 2, class: 'grid-empty', 'data-row': 0, 'data-col': 0, tabindex: 0 }, 'No learner has joined yet. Share the join link.')));
    }
    this.table.replaceChildren(h('thead', {}, groupRow, headRow), h('tbody', {}, ...rows));
    const maxRow = Math.max(0, d.learners.length - 1);
    const maxCol = d.learners.length ? steps.length + 1 : 0;
    this.active = { row: Math.min(this.active.row, maxRow), col: Math.min(this.active.col, maxCol) };
    const cell = this.cellAt(this.active.row, this.active.col);
    if (cell) {
      cell.tabIndex = 0;
      if (hadFocus) cell.focus();
    }
  }

  private row(l: DashboardLearner, r: number, steps: { track: { id: string; title: string }; step: { id: string; title: string }; index: number }[]): HTMLElement {
    const name = h(
      'th',
      { scope: 'row', role: 'rowheader', class: `learner-name${l.stuck ? ' is-stuck' : ''}`, 'data-row': r, 'data-col': 0, tabindex: -1, 'data-learner': l.id, 'data-testid': 'learner-row-header' },
      l.name,
      l.stuck ? h('span', { class: 'stuck-badge', title: l.stuckReasons.join(', ') }, ' stuck', h('span', { class: 'visually-hidden' }, `: ${l.stuckReasons.join(', ')}`)) : null,
    );
    const currentTitle = l.current ? this.dashboard?.tracks.find((t) => t.id === l.current!.trackId)?.steps.find((s) => s.id === l.current!.stepId)?.title : undefined;
    const time = h(
      'td',
      { role: 'gridcell', class: 'on-step', 'data-row': r, 'data-col': 1, tabindex: -1, 'data-since': l.current?.since ?? '' },
      l.current ? `${currentTitle ?? l.current.stepId} · ` : '—',
      l.current ? h('span', { class: 'elapsed', 'data-testid': 'elapsed' }, formatElapsed(Date.now() - this.clockOffset - Date.parse(l.current.since))) : null,
    );
    const cells = steps.map(({ track, step }, i) => {
      const state = l.cells[track.id]?.[step.id] ?? 'todo';
      const text = CELL_TEXT[state];
      return h(
        'td',
        { role: 'gridcell', class: `cell cell-${state}`, 'data-row': r, 'data-col': i + 2, tabindex: -1, 'data-learner': l.id, 'data-track': track.id, 'data-step': step.id, 'data-state': state, title: `${l.name}: ${step.title}: ${text.label}` },
        h('span', { 'aria-hidden': 'true' }, text.symbol),
        h('span', { class: 'visually-hidden' }, text.label),
      );
    });
    return h('tr', { role: 'row', 'data-learner': l.id }, name, time, ...cells);
  }

  private tick(): void {
    for (const cell of this.table.querySelectorAll<HTMLElement>('td.on-step[data-since]')) {
      const since = cell.dataset.since;
      const out = cell.querySelector('.elapsed');
      if (since && out) out.textContent = formatElapsed(Date.now() - this.clockOffset - Date.parse(since));
    }
  }

  private cellAt(row: number, col: number): HTMLElement | null {
    return this.table.querySelector<HTMLElement>(`[data-row="${row}"][data-col="${col}"]`);
  }

  private focusCell(row: number, col: number): void {
    const next = this.cellAt(row, col);
    if (!next) return;
    this.cellAt(this.active.row, this.active.col)?.setAttribute('tabindex', '-1');
    this.active = { row, col };
    next.tabIndex = 0;
    next.focus();
  }

  private open(cell: HTMLElement): void {
    const row = cell.closest('tr');
    const learnerId = row?.dataset.learner;
    if (!learnerId) return;
    const { track, step } = cell.dataset;
    this.onOpen(learnerId, track && step ? { trackId: track, stepId: step } : undefined);
  }

  private onKey(event: KeyboardEvent): void {
    const d = this.dashboard;
    if (!d) return;
    const rows = Math.max(1, d.learners.length);
    const cols = d.learners.length ? d.tracks.reduce((n, t) => n + t.steps.length, 0) + 2 : 1;
    let { row, col } = this.active;
    switch (event.key) {
      case 'ArrowRight': col = Math.min(cols - 1, col + 1); break;
      case 'ArrowLeft': col = Math.max(0, col - 1); break;
      case 'ArrowDown': row = Math.min(rows - 1, row + 1); break;
      case 'ArrowUp': row = Math.max(0, row - 1); break;
      case 'Home': col = 0; if (event.ctrlKey) row = 0; break;
      case 'End': col = cols - 1; if (event.ctrlKey) row = rows - 1; break;
      case 'Enter':
      case ' ': {
        const cell = this.cellAt(row, col);
        if (cell) this.open(cell);
        event.preventDefault();
        return;
      }
      default:
        return;
    }
    event.preventDefault();
    this.focusCell(row, col);
  }

  destroy(): void {
    window.clearInterval(this.timer);
  }
}
