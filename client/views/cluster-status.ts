/**
 * The cluster's state in the top bar while it is not ready: a progress bar with kind's stage
 * while a kind cluster is created (minutes, the first time), the reason when it failed.
 * Polls the server only while something is happening.
 */
import { api, type ClusterStatus } from '../api.js';
import { h } from '../dom.js';

const POLL_MS = 1500;

export class ClusterStatusView {
  readonly element: HTMLElement;
  private readonly bar: HTMLProgressElement;
  private readonly label: HTMLElement;
  private timer: number | undefined;
  private last = '';

  constructor(private readonly announce: (message: string) => void) {
    this.bar = h('progress', { class: 'cluster-progress-bar', max: 100, 'aria-label': 'Cluster preparation' });
    this.label = h('span', { class: 'cluster-progress-label' });
    this.element = h('div', { class: 'cluster-progress', hidden: true, 'data-testid': 'cluster-status', role: 'status' }, this.bar, this.label);
  }

  /** Starts watching; stops by itself once the cluster is ready or has failed. */
  watch(): void {
    void this.poll();
  }

  private async poll(): Promise<void> {
    let status: ClusterStatus;
    try {
      status = await api.cluster();
    } catch {
      this.schedule();
      return;
    }
    this.render(status);
    if (status.state === 'preparing' || status.state === 'not-started') this.schedule();
  }

  private schedule(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.poll(), POLL_MS);
  }

  private render(status: ClusterStatus): void {
    const key = `${status.state}|${status.stage ?? ''}|${status.message ?? ''}`;
    this.element.hidden = status.state === 'ready' || status.state === 'not-started';
    this.element.classList.toggle('is-failed', status.state === 'failed');
    if (status.state === 'preparing') {
      this.bar.hidden = false;
      this.bar.value = status.percent ?? 0;
      this.label.textContent = `Preparing your cluster: ${status.stage ?? 'starting'} (${status.percent ?? 0}%)`;
    } else if (status.state === 'failed') {
      this.bar.hidden = true;
      // The first sentence in the bar; kind's own words (the lines after) in the tooltip and the server log.
      this.label.textContent = `The cluster could not be prepared: ${(status.message ?? 'unknown error').split('\n')[0]}`;
      this.element.title = status.message ?? '';
    }
    if (key !== this.last) {
      this.last = key;
      if (status.state === 'failed') this.announce(this.label.textContent ?? '');
      else if (status.state === 'ready' && this.element.dataset.seen) this.announce('Your cluster is ready.');
      if (status.state === 'preparing') this.element.dataset.seen = 'true';
    }
  }
}
