/**
 * `#/track/ID/STEP`: the lesson on the left, the terminal on the right, a divider between.
 * One instance per open track; changing step re-renders only the lesson pane.
 */
import type { Announcer } from '../announcer.js';
import { type Progress, type ServerInfo, type Step, type Track, type TrackSummary, api } from '../api.js';
import { copyText } from '../clipboard.js';
import { h, icon } from '../dom.js';
import { trackHref } from '../router.js';
import { createSplitter } from '../splitter.js';
import type { TerminalPanel } from '../terminal/terminal-panel.js';
import { ChecksPanel } from './checks-panel.js';
import { MeshPanel } from './mesh-panel.js';
import { inlineMarkdown } from './inline-markdown.js';
import { StepResetControl } from './step-reset.js';

export { inlineMarkdown };
import { kubectlCallout } from './common.js';

export interface TrackViewDeps {
  track: Track;
  summary: TrackSummary | undefined;
  progress: Progress;
  info: ServerInfo;
  terminal: TerminalPanel;
  announcer: Announcer;
  onUnauthorized(): void;
}

export class TrackView {
  readonly element: HTMLElement;
  private readonly lessonPane: HTMLElement;
  private readonly lessonScroll: HTMLElement;
  private readonly stepPicker: HTMLButtonElement;
  private readonly stepList: HTMLElement;
  private readonly stepBar: HTMLElement;
  private readonly footer: HTMLElement;
  private progress: Progress;
  private step: Step | null = null;
  private checks: ChecksPanel | null = null;
  private mesh: MeshPanel | null = null;
  private readonly resets: StepResetControl;
  private readonly resetButton: HTMLButtonElement;

  constructor(private readonly deps: TrackViewDeps) {
    this.progress = deps.progress;
    this.resets = new StepResetControl({
      track: deps.track,
      backend: deps.info.backend.name,
      announcer: deps.announcer,
      terminal: deps.terminal,
      onUnauthorized: () => deps.onUnauthorized(),
      onDone: (stepId, message) => void this.afterReset(stepId, message),
    });
    this.resetButton = h(
      'button',
      {
        type: 'button',
        class: 'button button-ghost button-sm reset-step',
        'data-testid': 'reset-step',
        title: 'Rebuild the cluster, files and variables this step starts from',
        on: { click: () => this.step && this.resets.confirm(this.step.id, this.resetButton, 'reset') },
      },
      icon('refresh', 'icon icon-sm'),
      h('span', { class: 'label' }, 'Reset step'),
    );
    this.stepPicker = h('button', {
      type: 'button',
      class: 'step-picker',
      'aria-expanded': 'false',
      'aria-controls': 'step-list',
      'data-testid': 'step-picker',
      on: { click: () => this.toggleStepList() },
    });
    this.stepList = h('nav', { id: 'step-list', class: 'step-list', 'aria-label': 'Steps', hidden: true });
    this.stepList.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        this.toggleStepList(false);
        this.stepPicker.focus();
        return;
      }
      const links = [...this.stepList.querySelectorAll<HTMLElement>('a, button.step-jump')];
      const at = links.indexOf(document.activeElement as HTMLElement);
      const next =
        event.key === 'ArrowDown' ? at + 1 : event.key === 'ArrowUp' ? at - 1 : event.key === 'Home' ? 0 : event.key === 'End' ? links.length - 1 : null;
      if (next === null) return;
      event.preventDefault();
      links[Math.max(0, Math.min(links.length - 1, next))]?.focus();
    });
    this.stepBar = h('div', { class: 'step-bar', 'aria-hidden': 'true' });
    this.lessonScroll = h('div', { class: 'lesson-scroll', tabindex: -1 });
    this.lessonScroll.addEventListener('click', (event) => this.onLessonClick(event));
    this.footer = h('footer', { class: 'lesson-footer' });
    this.lessonPane = h(
      'section',
      { id: 'lesson-pane', class: 'lesson-pane', 'aria-label': 'Lesson' },
      h('div', { class: 'pane-toolbar lesson-toolbar' }, this.stepPicker, this.stepBar, this.resetButton),
      this.stepList,
      this.resets.status,
      this.lessonScroll,
      this.footer,
    );
    const workspace = h('div', { class: 'workspace', 'data-testid': 'workspace' });
    const splitter = createSplitter(workspace, this.lessonPane, () => deps.terminal.scheduleFit());
    workspace.append(this.lessonPane, splitter.element, deps.terminal.element);
    this.element = workspace;

    document.addEventListener('click', this.closeStepListOnOutsideClick);
  }

  get trackId(): string {
    return this.deps.track.id;
  }

  destroy(): void {
    this.resets.destroy();
    this.checks?.stop();
    this.mesh?.stop();
    document.removeEventListener('click', this.closeStepListOnOutsideClick);
  }

  /** The workshop's instructor reset one of this track's steps: follow it as the learner's own. */
  followReset(stepId: string, startedAt: number): void {
    this.resets.follow(stepId, startedAt);
  }

  /** Shows a step (or the saved/first one); returns the id of the step shown. */
  show(requestedStepId: string | null): string {
    const { track } = this.deps;
    const fallback = this.progress.currentStep ?? track.steps[0]?.id ?? null;
    const step = track.steps.find((candidate) => candidate.id === (requestedStepId ?? fallback)) ?? track.steps[0];
    if (!step) {
      this.lessonScroll.replaceChildren(h('p', { class: 'empty' }, 'This track has no steps yet.'));
      return '';
    }
    this.step = step;
    const index = track.steps.indexOf(step);
    this.renderStepChrome(step, index);
    this.checks?.stop();
    this.checks = step.checks?.length ? this.createChecks(step) : null;
    this.mesh?.stop();
    this.mesh = step.pictures?.length ? new MeshPanel(step.pictures) : null;
    this.mesh?.start();
    this.renderLesson(step, index);
    this.renderFooter(step, index);
    this.lessonScroll.scrollTop = 0;
    // Also on first opening a track (a link, a reload, Enter on a card): focus in the lesson is
    // what lets arrow keys and Page Down scroll it.
    if (!this.deps.terminal.element.contains(document.activeElement)) {
      this.lessonScroll.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
    }
    this.deps.announcer.announce(`Step ${index + 1} of ${track.steps.length}: ${step.title}`);
    if (this.progress.currentStep !== step.id) void this.saveProgress({ currentStep: step.id });
    return step.id;
  }

  private renderStepChrome(step: Step, index: number): void {
    const { track } = this.deps;
    const done = new Set(this.progress.done);
    this.stepPicker.replaceChildren(
      icon('list', 'icon icon-sm'),
      h('span', { class: 'step-picker-count' }, `Step ${index + 1} of ${track.steps.length}`),
      h('span', { class: 'step-picker-title' }, step.title),
      icon('chevronDown', 'icon icon-sm'),
    );
    this.stepList.replaceChildren(
      h(
        'ol',
        {},
        ...track.steps.map((candidate, i) =>
          h(
            'li',
            {},
            h(
              'a',
              {
                href: trackHref(track.id, candidate.id),
                class: `step-link${done.has(candidate.id) ? ' is-done' : ''}`,
                'aria-current': candidate.id === step.id ? 'step' : null,
                on: { click: () => this.toggleStepList(false) },
              },
              h('span', { class: 'step-mark', 'aria-hidden': 'true' }, done.has(candidate.id) ? icon('check', 'icon icon-xs') : String(i + 1)),
              h('span', {}, candidate.title),
              done.has(candidate.id) ? h('span', { class: 'visually-hidden' }, ' (done)') : null,
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'step-jump',
                'data-testid': `jump-${candidate.id}`,
                'aria-label': `Jump to step ${i + 1}, ${candidate.title}: rebuild the state it starts from`,
                title: 'Jump here: rebuild the cluster, files and variables this step starts from',
                on: {
                  click: (event: Event) => {
                    this.toggleStepList(false);
                    this.resets.confirm(candidate.id, this.stepPicker, 'jump');
                    event.stopPropagation();
                  },
                },
              },
              icon('refresh', 'icon icon-xs'),
              h('span', { class: 'label' }, 'Jump'),
            ),
          ),
        ),
      ),
    );
    this.stepBar.replaceChildren(
      ...track.steps.map((candidate, i) =>
        h('span', {
          class: `step-segment${done.has(candidate.id) ? ' is-done' : ''}${i === index ? ' is-current' : ''}`,
        }),
      ),
    );
  }

  private renderLesson(step: Step, index: number): void {
    const { track, summary, info } = this.deps;
    const body = h('div', { class: 'lesson-body', 'data-testid': 'lesson-body' });
    // Lesson HTML is sanitized by the server (DOMPurify); the CSP forbids inline scripts anyway.
    body.innerHTML = step.html;
    const first = body.firstElementChild;
    if (first?.tagName === 'H1') first.remove();
    enhanceCodeButtons(body);
    openExternalLinksInNewTabs(body);

    this.lessonScroll.replaceChildren(
      h(
        'article',
        { class: 'lesson', 'data-step': step.id },
        h('p', { class: 'eyebrow' }, `Step ${index + 1} · ${track.title}`),
        h('h1', { tabindex: -1, class: 'lesson-title' }, step.title),
        summary && !summary.supported
          ? h(
              'div',
              { class: 'callout callout-warning', role: 'note' },
              icon('warning'),
              h('p', {}, `This track is written for ${summary.backends.join(' or ')}; the current cluster is ${info.backend.name}. Some commands will fail.`),
            )
          : null,
        index === 0 && !info.kubectl.found ? kubectlCallout(info) : null,
        step.clusterWide && info.backend.learnerNamespaces
          ? h(
              'div',
              { class: 'callout callout-info', role: 'note', 'data-testid': 'instructor-done' },
              icon('check'),
              h('p', {}, 'Already done by your instructor: you share this cluster with the other learners, so Istio was downloaded and installed once for everyone. Read along; the checks below still verify the result.'),
            )
          : null,
        this.mesh?.element,
        body,
        this.checks?.element,
        step.hints.length ? hintsSection(step.hints, () => void api.hintOpened(this.deps.track.id, step.id)) : null,
        step.solution.length ? solutionSection(step.solution) : null,
      ),
    );
  }

  private renderFooter(step: Step, index: number): void {
    const { track } = this.deps;
    const previous = track.steps[index - 1];
    const next = track.steps[index + 1];
    const isDone = this.progress.done.includes(step.id);
    const doneButton = h(
      'button',
      {
        type: 'button',
        class: `button done-toggle${isDone ? ' is-done' : ''}`,
        'aria-pressed': String(isDone),
        'data-testid': 'mark-done',
        on: { click: () => void this.toggleDone(step.id) },
      },
      icon('check', 'icon icon-sm'),
      isDone ? 'Done' : 'Mark as done',
    );
    this.footer.replaceChildren(
      previous
        ? h('a', { class: 'button button-ghost', href: trackHref(track.id, previous.id), rel: 'prev', 'data-testid': 'prev-step' }, icon('chevronLeft', 'icon icon-sm'), 'Previous')
        : h('span', { class: 'footer-spacer' }),
      this.checks ? this.checks.chip : doneButton,
      next
        ? h('a', { class: `button ${isDone ? 'button-primary' : 'button-secondary'}`, href: trackHref(track.id, next.id), rel: 'next', 'data-testid': 'next-step' }, 'Next', icon('chevronRight', 'icon icon-sm'))
        : h('a', { class: `button ${isDone ? 'button-primary' : 'button-secondary'}`, href: '#/', 'data-testid': 'finish-track' }, 'All tracks', icon('chevronRight', 'icon icon-sm')),
    );
  }

  private createChecks(step: Step): ChecksPanel {
    const panel = new ChecksPanel({
      trackId: this.deps.track.id,
      stepId: step.id,
      titles: (step.checks ?? []).map((check) => check.title),
      announcer: this.deps.announcer,
      onUnauthorized: () => this.deps.onUnauthorized(),
      // The server records done itself when the checks pass; mirror it.
      onDone: (done) => {
        const others = this.progress.done.filter((id) => id !== step.id);
        this.progress = { ...this.progress, done: done ? [...others, step.id] : others };
        if (this.step === step) this.refreshStep();
      },
    });
    panel.start();
    return panel;
  }

  /** After a reset or jump: the server moved the position and cleared done marks; show that step. */
  private async afterReset(stepId: string, message: string): Promise<void> {
    try {
      this.progress = await api.progress(this.deps.track.id);
    } catch (error) {
      if ((error as Error).name === 'UnauthorizedError') return this.deps.onUnauthorized();
    }
    // Shown here rather than through the router, so that the result is announced last (after the step's name).
    const href = trackHref(this.deps.track.id, stepId);
    if (location.hash !== href) history.replaceState(null, '', href);
    this.show(stepId);
    this.deps.announcer.announce(message);
  }

  private async toggleDone(stepId: string): Promise<void> {
    const done = !this.progress.done.includes(stepId);
    this.progress = {
      ...this.progress,
      done: done ? [...this.progress.done, stepId] : this.progress.done.filter((id) => id !== stepId),
    };
    this.refreshStep();
    this.deps.announcer.announce(done ? 'Step marked as done.' : 'Step marked as not done.');
    await this.saveProgress({ done: { stepId, done } });
    if (done) this.footer.querySelector<HTMLElement>('[rel="next"], [data-testid="finish-track"]')?.focus();
    else this.footer.querySelector<HTMLElement>('[data-testid="mark-done"]')?.focus();
  }

  private refreshStep(): void {
    if (!this.step) return;
    const index = this.deps.track.steps.indexOf(this.step);
    this.renderStepChrome(this.step, index);
    this.renderFooter(this.step, index);
  }

  private async saveProgress(update: { currentStep?: string; done?: { stepId: string; done: boolean } }): Promise<void> {
    try {
      this.progress = await api.updateProgress(this.deps.track.id, update);
      this.refreshStep();
    } catch (error) {
      if ((error as Error).name === 'UnauthorizedError') this.deps.onUnauthorized();
      else {
        console.warn('progress not saved:', error);
        this.deps.announcer.announce('Progress could not be saved.');
      }
    }
  }

  private onLessonClick(event: MouseEvent): void {
    const target = event.target as Element;
    const run = target.closest<HTMLButtonElement>('button.code-run');
    if (run) {
      const command = run.dataset.command ?? '';
      if (command && this.deps.terminal.run(command)) flashLabel(run, 'Sent');
      return;
    }
    const copy = target.closest<HTMLButtonElement>('button.code-copy');
    if (copy) {
      void copyText(copy.dataset.copy ?? '').then((ok) => {
        flashLabel(copy, ok ? 'Copied' : 'Copy failed');
        this.deps.announcer.announce(ok ? 'Copied to the clipboard.' : 'The browser refused access to the clipboard.');
      });
    }
  }

  private toggleStepList(open = this.stepList.hidden): void {
    this.stepList.hidden = !open;
    this.stepPicker.setAttribute('aria-expanded', String(open));
    if (open) this.stepList.querySelector<HTMLElement>('[aria-current="step"]')?.focus();
  }

  private readonly closeStepListOnOutsideClick = (event: MouseEvent) => {
    if (this.stepList.hidden) return;
    const target = event.target as Node;
    if (!this.stepList.contains(target) && !this.stepPicker.contains(target)) this.toggleStepList(false);
  };
}

/**
 * Normalizes the server-rendered code buttons, wherever the renderer put them: one action bar
 * per code block, each button with an icon, a visible label and an accessible name.
 */
function enhanceCodeButtons(root: HTMLElement): void {
  for (const block of root.querySelectorAll<HTMLElement>('.codeblock')) {
    const buttons = [...block.querySelectorAll<HTMLButtonElement>('button.code-copy, button.code-run')];
    if (!buttons.length) continue;
    let bar = block.querySelector<HTMLElement>(':scope > .codeblock-actions, :scope > .code-actions');
    if (!bar) {
      bar = h('div', {});
      block.prepend(bar);
    }
    bar.className = 'code-actions';
    const runnable = block.dataset.runnable === 'true';
    if (!bar.querySelector('.code-label')) {
      const language = block.dataset.lang ?? block.querySelector<HTMLElement>('pre')?.dataset.lang ?? '';
      bar.prepend(
        h('span', { class: 'code-label' }, runnable ? icon('terminal', 'icon icon-sm') : null, runnable ? 'Command' : language),
      );
    }
    // Copy first, Run last: the primary action sits at the edge.
    buttons.sort((a, b) => Number(a.classList.contains('code-run')) - Number(b.classList.contains('code-run')));
    for (const button of buttons) {
      const isRun = button.classList.contains('code-run');
      const text = button.textContent?.trim() || (isRun ? 'Run' : 'Copy');
      button.type = 'button';
      button.replaceChildren(
        icon(isRun ? 'play' : 'copy', isRun ? 'icon icon-sm icon-filled' : 'icon icon-sm'),
        h('span', { class: 'label' }, text),
      );
      button.title = isRun ? 'Type this command into the terminal and run it' : 'Copy to the clipboard';
      const subject = firstLine(isRun ? button.dataset.command : button.dataset.copy);
      if (subject) button.setAttribute('aria-label', `${text}: ${subject}`);
      bar.append(button);
    }
  }
}

/** Links leaving the playground open beside it: following one must not drop the lesson and shell. */
function openExternalLinksInNewTabs(root: HTMLElement): void {
  for (const link of root.querySelectorAll<HTMLAnchorElement>('a[href]')) {
    let url: URL;
    try {
      url = new URL(link.getAttribute('href') ?? '', location.href);
    } catch {
      continue;
    }
    if (url.origin === location.origin) continue;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.append(h('span', { class: 'visually-hidden' }, ' (opens in a new tab)'), icon('external', 'icon icon-xs external-icon'));
  }
}

function firstLine(text: string | undefined): string {
  const line = (text ?? '').trim().split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}

function flashLabel(button: HTMLButtonElement, text: string): void {
  const label = button.querySelector<HTMLElement>('.label');
  if (!label) return;
  const original = button.dataset.label ?? label.textContent ?? '';
  button.dataset.label = original;
  label.textContent = text;
  button.classList.add('is-flashed');
  window.clearTimeout(Number(button.dataset.flashTimer ?? 0));
  button.dataset.flashTimer = String(
    window.setTimeout(() => {
      label.textContent = original;
      button.classList.remove('is-flashed');
    }, 1400),
  );
}

function hintsSection(hints: string[], onReveal?: () => void): HTMLElement {
  const list = h('ol', { class: 'hint-list' });
  let shown = 0;
  const more = h('button', { type: 'button', class: 'button button-ghost button-sm', 'data-testid': 'show-hint' });
  const reveal = () => {
    const hint = hints[shown];
    if (hint === undefined) return;
    const item = h('li', { tabindex: -1 });
    // Current servers send rendered, sanitized HTML; older ones sent the markdown text.
    if (/^\s*</.test(hint)) item.innerHTML = hint;
    else item.append(...inlineMarkdown(hint));
    list.append(item);
    shown += 1;
    onReveal?.();
    (list.lastElementChild as HTMLElement).focus();
    update();
  };
  const update = () => {
    more.replaceChildren(icon('lightbulb', 'icon icon-sm'), shown === 0 ? 'Show a hint' : `Show another hint (${shown} of ${hints.length})`);
    more.hidden = shown >= hints.length;
  };
  more.addEventListener('click', reveal);
  update();
  return h('section', { class: 'assist hints', 'aria-label': 'Hints' }, h('h2', { class: 'assist-title' }, 'Stuck?'), list, more);
}

function solutionSection(commands: string[]): HTMLElement {
  return h(
    'details',
    { class: 'assist solution', 'data-testid': 'solution' },
    h('summary', {}, icon('chevronRight', 'icon icon-sm disclosure-icon'), 'Show the solution'),
    solutionBody(commands),
  );
}

function solutionBody(commands: string[]): HTMLElement {
  const body = h(
    'div',
    { class: 'solution-body' },
    ...commands.map((command) =>
      h(
        'div',
        { class: 'codeblock', 'data-runnable': 'true' },
        h('pre', { class: 'plain' }, h('code', {}, command)),
        h('button', { type: 'button', class: 'code-copy', 'data-copy': command }),
        h('button', { type: 'button', class: 'code-run', 'data-command': command }),
      ),
    ),
  );
  enhanceCodeButtons(body);
  return body;
}
