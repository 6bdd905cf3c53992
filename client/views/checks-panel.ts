/**
 * A step's live checks: the server evaluates them against the cluster and pushes verdicts as
 * server-sent events while the step is on screen (re-checking after terminal activity), so the
 * panel turns green as the learner works, without a click. "Check now" asks at once.
 */
import type { Announcer } from '../announcer.js';
import { type StepCheckState, api, checkEventsUrl } from '../api.js';
import { h, icon } from '../dom.js';
import { inlineMarkdown } from './inline-markdown.js';

export interface ChecksPanelOptions {
  trackId: string;
  stepId: string;
  titles: string[];
  announcer: Announcer;
  /** The verdict changed whether the step counts as done. */
  onDone(done: boolean): void;
  onUnauthorized(): void;
}

const SUMMARY: Record<StepCheckState['state'], string> = {
  none: '',
  checking: 'Checking…',
  passed: 'All checks pass',
  failed: 'Not there yet',
  unreachable: 'Cluster unreachable',
};

export class ChecksPanel {
  /** The panel shown in the lesson. */
  readonly element: HTMLElement;
  /** A compact status for the lesson footer; activating it brings the panel into view. */
  readonly chip: HTMLButtonElement;
  private readonly list: HTMLElement;
  private readonly status: HTMLElement;
  private readonly message: HTMLElement;
  private readonly checkNow: HTMLButtonElement;
  private events: EventSource | null = null;
  private state: StepCheckState;
  private announced = '';
  private seenVerdict = false;

  constructor(private readonly options: ChecksPanelOptions) {
    this.state = {
      trackId: options.trackId,
      stepId: options.stepId,
      state: 'checking',
      done: false,
      checks: options.titles.map((title) => ({ title, passed: false, found: 'not checked yet' })),
    };
    this.status = h('span', { class: 'checks-status', 'data-testid': 'checks-status' });
    this.list = h('ul', { class: 'check-list', role: 'list' });
    this.message = h('p', { class: 'checks-message', hidden: true });
    this.checkNow = h(
      'button',
      { type: 'button', class: 'button button-sm', 'data-testid': 'check-now', on: { click: () => void this.runNow() } },
      icon('refresh', 'icon icon-sm'),
      'Check now',
    );
    this.element = h(
      'section',
      { class: 'checks', 'aria-labelledby': `checks-${options.stepId}`, 'data-testid': 'checks' },
      h(
        'div',
        { class: 'checks-header' },
        h('h2', { class: 'checks-title', id: `checks-${options.stepId}` }, 'Checks'),
        this.status,
        this.checkNow,
      ),
      this.list,
      this.message,
    );
    this.chip = h('button', {
      type: 'button',
      class: 'checks-chip',
      'data-testid': 'checks-chip',
      on: {
        click: () => {
          this.element.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
          this.checkNow.focus({ preventScroll: true });
        },
      },
    });
    this.render();
  }

  start(): void {
    this.stop();
    const events = new EventSource(checkEventsUrl(this.options.trackId, this.options.stepId));
    events.addEventListener('checks', (event) => {
      try {
        this.update(JSON.parse((event as MessageEvent<string>).data) as StepCheckState);
      } catch {
        // A malformed event is ignored; the next verdict replaces it.
      }
    });
    // The server's own `error` events carry a reason; the browser's (lost connection) do not
    // and are retried by EventSource itself.
    events.addEventListener('error', (event) => {
      const data = (event as MessageEvent<string>).data;
      if (typeof data === 'string') {
        this.showMessage(safeErrorText(data));
        events.close();
      }
    });
    this.events = events;
  }

  stop(): void {
    this.events?.close();
    this.events = null;
  }

  private async runNow(): Promise<void> {
    this.checkNow.disabled = true;
    this.checkNow.classList.add('is-busy');
    this.status.textContent = 'Checking…';
    try {
      this.update(await api.runChecks(this.options.trackId, this.options.stepId));
    } catch (error) {
      if ((error as Error).name === 'UnauthorizedError') this.options.onUnauthorized();
      else this.showMessage((error as Error).message);
      this.render();
    } finally {
      this.checkNow.disabled = false;
      this.checkNow.classList.remove('is-busy');
    }
  }

  private update(state: StepCheckState): void {
    const wasDone = this.state.done;
    this.state = state;
    this.render();
    if (state.done !== wasDone) this.options.onDone(state.done);
    this.announce();
  }

  private render(): void {
    const { state, checks } = this.state;
    const passing = checks.filter((check) => check.passed).length;
    // A step that passed stays done (the step list says so): a later change to the cluster, such
    // as the step's own clean-up, shows in the list of checks but does not undo the step.
    const done = this.state.done && state !== 'passed' && state !== 'none';
    this.element.dataset.state = state;
    this.status.dataset.state = done ? 'passed' : state;
    this.status.textContent = done
      ? state === 'failed'
        ? `Step done · ${passing} of ${checks.length} pass now`
        : 'Step done'
      : state === 'failed'
        ? `${passing} of ${checks.length} passing`
        : SUMMARY[state];
    this.list.replaceChildren(...checks.map((check) => {
      const pending = state === 'checking' && check.found === 'not checked yet';
      return h(
        'li',
        { class: `check ${pending ? 'is-pending' : check.passed ? 'is-passed' : 'is-failed'}` },
        h('span', { class: 'check-icon', 'aria-hidden': 'true' }, pending ? h('span', { class: 'check-dot' }) : icon(check.passed ? 'check' : 'close', 'icon icon-xs')),
        h(
          'div',
          { class: 'check-text' },
          h('span', { class: 'check-title' }, check.title),
          h('span', { class: 'visually-hidden' }, pending ? ': not checked yet' : check.passed ? ': passes' : ': does not pass yet'),
          !pending && check.found ? h('span', { class: 'check-found' }, ...inlineMarkdown(check.found, { codeOnly: true })) : null,
          !check.passed && check.hint ? h('span', { class: 'check-hint' }, icon('lightbulb', 'icon icon-xs'), ...inlineMarkdown(check.hint)) : null,
        ),
      );
    }));
    if (state === 'unreachable') this.showMessage(this.state.message ?? 'The cluster could not be reached.');
    else this.message.hidden = true;

    this.chip.dataset.state = done ? 'passed' : state;
    this.chip.replaceChildren(
      icon(state === 'passed' || done ? 'check' : state === 'unreachable' ? 'warning' : 'list', 'icon icon-sm'),
      state === 'passed' ? 'Checks pass' : done ? 'Step done' : state === 'failed' ? `${passing}/${checks.length} checks` : SUMMARY[state],
    );
    this.chip.title = `Checks: ${this.status.textContent}. Show the checks.`;
  }

  private announce(): void {
    const { state, checks } = this.state;
    const passing = checks.filter((check) => check.passed).length;
    const text =
      state === 'passed'
        ? 'All checks pass. Step complete.'
        : state === 'failed'
          ? `${passing} of ${checks.length} checks passing.`
          : state === 'unreachable'
            ? 'The cluster is unreachable; checks are paused.'
            : '';
    // Opening a step is announced already; its first verdict only if the step is complete.
    const first = !this.seenVerdict && state !== 'checking';
    if (state !== 'checking') this.seenVerdict = true;
    if (text && text !== this.announced && (!first || state === 'passed')) this.options.announcer.announce(text);
    this.announced = text;
  }

  private showMessage(text: string): void {
    this.message.textContent = text;
    this.message.hidden = false;
  }
}

function safeErrorText(data: string): string {
  try {
    const parsed = JSON.parse(data) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : data;
  } catch {
    return data;
  }
}
