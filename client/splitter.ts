/**
 * The draggable divider between the lesson and the terminal: an ARIA window splitter
 * (role="separator", focusable, arrow keys / Home / End) that also follows the pointer.
 * Its value is the first pane's share of the space, in percent; persisted per browser.
 * Below the stacking breakpoint the panes stack and the divider works vertically.
 */
import { readPreference, writePreference } from './preferences.js';

const MIN = 20;
const MAX = 80;
const STEP = 2;
const BIG_STEP = 10;
const KEY = 'split';
export const STACKED_QUERY = '(max-width: 760px)';

export interface Splitter {
  element: HTMLElement;
  value(): number;
}

export function createSplitter(container: HTMLElement, firstPane: HTMLElement, onChange: () => void): Splitter {
  const stacked = window.matchMedia(STACKED_QUERY);
  const divider = document.createElement('div');
  divider.className = 'splitter';
  divider.tabIndex = 0;
  divider.setAttribute('role', 'separator');
  divider.setAttribute('aria-label', 'Resize lesson and terminal');
  divider.setAttribute('aria-controls', firstPane.id);
  divider.setAttribute('aria-valuemin', String(MIN));
  divider.setAttribute('aria-valuemax', String(MAX));
  divider.dataset.testid = 'splitter';
  divider.append(Object.assign(document.createElement('span'), { className: 'splitter-grip' }));

  let value = clamp(Number(readPreference(KEY) ?? '') || 44);

  const apply = (next: number, persist: boolean) => {
    value = clamp(next);
    container.style.setProperty('--split', `${value}%`);
    divider.setAttribute('aria-valuenow', String(Math.round(value)));
    divider.setAttribute('aria-valuetext', `Lesson ${Math.round(value)}%, terminal ${Math.round(100 - value)}%`);
    divider.setAttribute('aria-orientation', stacked.matches ? 'horizontal' : 'vertical');
    if (persist) writePreference(KEY, String(Math.round(value * 10) / 10));
    onChange();
  };

  divider.addEventListener('keydown', (event) => {
    const amount = event.shiftKey ? BIG_STEP : STEP;
    const vertical = !stacked.matches;
    let next: number | null = null;
    switch (event.key) {
      case 'ArrowLeft':
        if (vertical) next = value - amount;
        break;
      case 'ArrowRight':
        if (vertical) next = value + amount;
        break;
      case 'ArrowUp':
        if (!vertical) next = value - amount;
        break;
      case 'ArrowDown':
        if (!vertical) next = value + amount;
        break;
      case 'Home':
        next = MIN;
        break;
      case 'End':
        next = MAX;
        break;
    }
    if (next === null) return;
    event.preventDefault();
    apply(next, true);
  });

  divider.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    divider.setPointerCapture(event.pointerId);
    divider.focus();
    container.classList.add('is-resizing');
    const move = (moveEvent: PointerEvent) => {
      const box = container.getBoundingClientRect();
      const share = stacked.matches
        ? ((moveEvent.clientY - box.top) / box.height) * 100
        : ((moveEvent.clientX - box.left) / box.width) * 100;
      apply(share, false);
    };
    const end = () => {
      container.classList.remove('is-resizing');
      divider.removeEventListener('pointermove', move);
      divider.removeEventListener('pointerup', end);
      divider.removeEventListener('pointercancel', end);
      apply(value, true);
    };
    divider.addEventListener('pointermove', move);
    divider.addEventListener('pointerup', end);
    divider.addEventListener('pointercancel', end);
  });

  divider.addEventListener('dblclick', () => apply(44, true));
  stacked.addEventListener('change', () => apply(value, false));
  apply(value, false);
  return { element: divider, value: () => value };
}

function clamp(value: number): number {
  return Math.min(MAX, Math.max(MIN, value));
}
