/** Small pieces shared by the views: notices, error pages. */
import type { ServerInfo } from '../api.js';
import { h, icon } from '../dom.js';

export function kubectlCallout(info: ServerInfo): HTMLElement {
  return h(
    'div',
    { class: 'callout callout-warning', role: 'note', 'data-testid': 'kubectl-missing' },
    icon('warning'),
    h(
      'div',
      {},
      h('strong', {}, 'kubectl is not installed on the server.'),
      h('p', {}, 'The lessons run kubectl in the terminal. Install it, then restart the playground:'),
      h('pre', { class: 'callout-code' }, h('code', {}, info.kubectl.installHint ?? 'bash scripts/install-tools.sh')),
    ),
  );
}

export function unauthorizedView(): HTMLElement {
  return h(
    'div',
    { class: 'message-page', 'data-testid': 'unauthorized' },
    h(
      'div',
      { class: 'message-card' },
      h('div', { class: 'message-icon' }, icon('key')),
      h('h1', { tabindex: -1 }, 'Open the URL printed by the server'),
      h(
        'p',
        {},
        'This playground only accepts browsers that arrived through its private link. ',
        'Look in the terminal where you started it for a line like ',
        h('code', {}, `${location.origin}${location.pathname}?token=…`),
        ' and open that URL. If the server was restarted, it printed a new one.',
      ),
    ),
  );
}

export function errorView(title: string, detail: string, action?: { label: string; href?: string; onClick?: () => void }): HTMLElement {
  return h(
    'div',
    { class: 'message-page', 'data-testid': 'error-view' },
    h(
      'div',
      { class: 'message-card' },
      h('div', { class: 'message-icon message-icon-warning' }, icon('warning')),
      h('h1', { tabindex: -1 }, title),
      h('p', {}, detail),
      action?.href ? h('a', { class: 'button button-primary', href: action.href }, action.label) : null,
      action?.onClick ? h('button', { type: 'button', class: 'button button-primary', on: { click: action.onClick } }, action.label) : null,
    ),
  );
}
