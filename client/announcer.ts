/**
 * One polite ARIA live region for status changes (connection state, step changes, check
 * results). Re-announcing identical text needs the region emptied first, or screen readers
 * stay silent.
 */
export class Announcer {
  readonly element: HTMLElement;
  private timer = 0;

  constructor() {
    this.element = document.createElement('div');
    this.element.className = 'visually-hidden';
    this.element.setAttribute('role', 'status');
    this.element.setAttribute('aria-live', 'polite');
    this.element.setAttribute('aria-atomic', 'true');
    this.element.dataset.testid = 'announcer';
  }

  announce(message: string): void {
    this.element.textContent = '';
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.element.textContent = message;
    }, 60);
  }
}
