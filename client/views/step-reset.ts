/**
 * "Reset this step" and "Jump to step N": a confirmation that says what will be replaced, then
 * the server's progress (building the state once, restoring, or replaying solutions on a real
 * cluster) in a live region, and a fresh terminal once it is done. A workshop instructor's reset
 * of the learner's step is followed the same way, without the confirmation (`follow`).
 */
import type { Announcer } from '../announcer.js';
import { api, resetEventsUrl, type ResetStatus, type Track } from '../api.js';
import { h, icon } from '../dom.js';
import type { TerminalPanel } from '../terminal/terminal-panel.js';

export interface StepResetDeps {
  track: Track;
  /** The cluster backend's name: `sim` restores, the others replay. */
  backend: string;
  announcer: Announcer;
  terminal: TerminalPanel;
  /** The reset finished: show the step, with progress re-read from the server, then announce `message`. */
  onDone(stepId: string, message: string): void;
  onUnauthorized(): void;
}

export class StepResetControl {
  /** Where progress and failures are shown (in the lesson pane, above the lesson). */
  readonly status: HTMLElement;
  private readonly dialog: HTMLDialogElement;
  private events: EventSource | null = null;
  private busy = false;
  private opener: HTMLElement | null = null;

  constructor(private readonly deps: StepResetDeps) {
    this.status = h('div', { class: 'reset-status', 'data-testid': 'reset-status', role: 'status', hidden: true });
    this.dialog = h('dialog', { class: 'reset-dialog', 'aria-labelledby': 'reset-dialog-title', 'data-testid': 'reset-dialog' }) as HTMLDialogElement;
    this.dialog.addEventListener('close', () => this.opener?.focus());
    document.body.append(this.dialog);
  }

  destroy(): void {
    this.events?.close();
    this.dialog.remove();
  }

  /** Asks before replacing anything; `opener` gets the focus back when the dialog closes. */
  confirm(stepId: string, opener: HTMLElement | null, kind: 'reset' | 'jump'): void {
    if (this.busy) {
      this.deps.announcer.announce('A reset is already running.');
      return;
    }
    const { track } = this.deps;
    const index = track.steps.findIndex((s) => s.id === stepId);
    const step = track.steps[index];
    if (!step) return;
    this.opener = opener;
    const setup = (step.setup ?? track.steps.slice(0, index).map((s) => s.id)).map((id) => track.steps.find((s) => s.id === id)?.title ?? id);
    const sim = this.deps.backend === 'sim';
    const verb = kind === 'reset' ? 'Reset this step' : `Jump to step ${index + 1}`;
    const built = setup.length
      ? `the state the solutions of ${setup.length === 1 ? `step "${setup[0]}"` : `${setup.length} earlier steps (${setup.join(', ')})`} leave`
      : 'a fresh start';
    this.dialog.replaceChildren(
      h('h2', { id: 'reset-dialog-title' }, `${verb}: “${step.title}”?`),
      h('p', {}, `You start from ${built}. This replaces:`),
      h(
        'ul',
        {},
        h('li', {}, sim ? 'everything in your cluster (objects you created are removed);' : `your cluster's objects from this track: its clean-up runs, then those solutions are replayed, command by command;`),
        h('li', {}, "the folders the track's steps create in your home folder (such as the Istio release) and the variables they set; your other files are kept;"),
        h('li', {}, 'your terminal: its shell restarts, and a command running in it is stopped.'),
      ),
      h('p', {}, `Step ${index + 1} and the steps after it are marked not done.`),
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button button-ghost', 'data-testid': 'reset-cancel', on: { click: () => this.dialog.close() } }, 'Cancel'),
        h('button', { type: 'button', class: 'button button-primary', 'data-testid': 'reset-confirm', on: { click: () => void this.run(stepId, kind) } }, icon('refresh', 'icon icon-sm'), verb),
      ),
    );
    this.dialog.showModal();
    this.dialog.querySelector<HTMLElement>('[data-testid="reset-cancel"]')?.focus();
  }

  private show(text: string, kind: 'progress' | 'done' | 'failed', progress?: ResetStatus['progress']): void {
    this.status.hidden = false;
    this.status.className = `reset-status is-${kind}`;
    this.status.setAttribute('role', kind === 'failed' ? 'alert' : 'status');
    const parts: Node[] = [
      kind === 'progress' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : icon(kind === 'done' ? 'check' : 'warning', 'icon icon-sm'),
      h('span', { class: 'reset-message' }, text),
    ];
    if (progress) parts.push(h('progress', { max: String(progress.total), value: String(progress.index), 'aria-label': `Step ${progress.index} of ${progress.total}` }));
    if (kind !== 'progress') parts.push(h('button', { type: 'button', class: 'button button-ghost button-sm', on: { click: () => (this.status.hidden = true) } }, 'Dismiss'));
    this.status.replaceChildren(...parts);
  }

  private async run(stepId: string, kind: 'reset' | 'jump'): Promise<void> {
    this.dialog.close();
    this.busy = true;
    const step = this.deps.track.steps.find((s) => s.id === stepId)!;
    this.show(`Preparing the start of “${step.title}”…`, 'progress');
    let started: ResetStatus;
    try {
      started = await api.resetStep(this.deps.track.id, stepId);
    } catch (error) {
      this.busy = false;
      if ((error as Error).name === 'UnauthorizedError') return this.deps.onUnauthorized();
      this.show((error as Error).message, 'failed');
      this.deps.announcer.announce(`The reset did not start: ${(error as Error).message}`);
      return;
    }
    this.listen(stepId, started.startedAt);
  }

  /**
   * A reset someone else started (the workshop's instructor), from `startedAt` on: its progress,
   * then the step and a fresh terminal, as for the learner's own.
   */
  follow(stepId: string, startedAt: number): void {
    const step = this.deps.track.steps.find((s) => s.id === stepId);
    if (!step) return;
    if (this.dialog.open) this.dialog.close();
    this.busy = true;
    this.show(`Your instructor reset “${step.title}”: preparing its start…`, 'progress');
    this.listen(stepId, startedAt);
  }

  private listen(stepId: string, startedAt: number): void {
    this.events?.close();
    const events = new EventSource(resetEventsUrl);
    this.events = events;
    let lastSaid = '';
    events.addEventListener('reset', (event) => {
      const status = JSON.parse((event as MessageEvent<string>).data) as ResetStatus;
      if (status.startedAt < startedAt || status.stepId !== stepId) return;
      // Screen readers hear each phase once (what comes before the colon), not every command of a replay:
      // "Preparing…" then "Replaying on your cluster" share a phase but are two things to hear.
      const said = status.message.split(':')[0]!;
      if (said !== lastSaid && status.phase !== 'done' && status.phase !== 'failed') this.deps.announcer.announce(said);
      lastSaid = said;
      if (status.phase === 'done' || status.phase === 'failed') {
        events.close();
        this.events = null;
        this.busy = false;
        if (status.phase === 'done') {
          // Ready once the new shell is there (it reads the state's variables as it starts).
          void this.deps.terminal.restart().then(() => {
            this.show(status.message, 'done');
            this.deps.onDone(stepId, status.message);
          });
        } else {
          // The shell was ended for the reset: a new one, to look into what failed (a shell the reset
          // never reached is left as it is, or started if this page had none yet).
          void (status.terminalEnded === false ? this.deps.terminal.start() : this.deps.terminal.restart()).then(() => {
            this.show(status.message, 'failed');
            this.deps.announcer.announce(status.message);
          });
        }
        return;
      }
      this.show(status.message, 'progress', status.progress);
    });
  }
}
