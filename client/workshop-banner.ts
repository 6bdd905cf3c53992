/**
 * For a learner in a workshop: the instructor's broadcast messages, as a dismissible banner under
 * the header, and the instructor's resets of the learner's step (said the same way; the page
 * follows the reset itself). The message container is inserted fresh for each message with
 * role="alert", so screen readers announce it once; a dismissed message stays dismissed across
 * reloads of the tab.
 */
import type { InstructorReset } from './api.js';
import { h, icon } from './dom.js';

const DISMISSED_KEY = 'workshop-broadcast-dismissed';

interface BroadcastMessage {
  id: string;
  text: string;
  at: string;
}

export class WorkshopBanner {
  readonly element: HTMLElement;
  private readonly broadcastSlot: HTMLElement;
  private readonly resetSlot: HTMLElement;
  private events: EventSource | null = null;

  /** `onReset`: the instructor started a reset of one of this learner's steps. */
  constructor(private readonly onReset: (reset: InstructorReset) => void = () => {}) {
    this.broadcastSlot = h('div', {});
    this.resetSlot = h('div', {});
    this.element = h('div', { class: 'broadcast-slot', 'data-testid': 'broadcast-slot' }, this.broadcastSlot, this.resetSlot);
  }

  async start(): Promise<void> {
    let response: Response;
    try {
      response = await fetch('api/workshop', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    } catch {
      return;
    }
    // Not in a workshop (a self-paced learner): nothing to listen to.
    if (!response.ok) return;
    const body = (await response.json().catch(() => null)) as { workshop: unknown } | null;
    if (!body?.workshop) return;
    this.events = new EventSource('api/workshop/events');
    this.events.addEventListener('broadcast', (event) => {
      try {
        this.show(JSON.parse((event as MessageEvent<string>).data) as BroadcastMessage);
      } catch {
        // A malformed event is ignored; the next one replaces it.
      }
    });
    this.events.addEventListener('reset', (event) => {
      let reset: InstructorReset;
      try {
        reset = JSON.parse((event as MessageEvent<string>).data) as InstructorReset;
      } catch {
        return;
      }
      this.showReset(reset);
      this.onReset(reset);
    });
  }

  private showReset(reset: InstructorReset): void {
    const dismiss = h(
      'button',
      {
        type: 'button',
        class: 'icon-button broadcast-dismiss',
        'aria-label': 'Dismiss the notice of your instructor’s reset',
        title: 'Dismiss',
        on: {
          click: () => {
            this.resetSlot.replaceChildren();
            document.getElementById('main')?.focus();
          },
        },
      },
      icon('close', 'icon icon-sm'),
    );
    this.resetSlot.replaceChildren(
      h(
        'section',
        { class: 'broadcast-banner', 'aria-label': 'Your instructor reset your step', 'data-testid': 'instructor-reset' },
        h('div', { role: 'alert', class: 'broadcast-text' }, `Your instructor reset step “${reset.stepTitle}” of ${reset.trackTitle}: your cluster, files and terminal go back to the start of that step.`),
        dismiss,
      ),
    );
  }

  private show(message: BroadcastMessage): void {
    if (sessionStorage.getItem(DISMISSED_KEY) === message.id) return;
    const dismiss = h(
      'button',
      {
        type: 'button',
        class: 'icon-button broadcast-dismiss',
        'aria-label': 'Dismiss the message from your instructor',
        title: 'Dismiss',
        'data-testid': 'broadcast-dismiss',
        on: {
          click: () => {
            sessionStorage.setItem(DISMISSED_KEY, message.id);
            this.broadcastSlot.replaceChildren();
            document.getElementById('main')?.focus();
          },
        },
      },
      icon('close', 'icon icon-sm'),
    );
    const time = new Date(message.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    this.broadcastSlot.replaceChildren(
      h(
        'section',
        { class: 'broadcast-banner', 'aria-label': 'Message from your instructor', 'data-testid': 'broadcast' },
        h('div', { role: 'alert', class: 'broadcast-text' }, h('strong', {}, 'Instructor: '), message.text, h('span', { class: 'broadcast-time' }, ` (${time})`)),
        dismiss,
      ),
    );
  }
}
