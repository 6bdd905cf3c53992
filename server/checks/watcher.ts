/**
 * Keeps one step's check verdict fresh while a learner looks at it: re-evaluates when an object
 * the checks depend on changes (watches through the Kubernetes API), shortly after terminal
 * activity, on demand ("Check now"), and on a slow timer for traffic checks. Evaluations never
 * overlap; a trigger during one schedules exactly one more. An unreachable cluster is retried
 * with backoff until it answers again.
 */
import type { Logger } from 'pino';
import type { CheckContext } from './kinds/index.js';
import { evaluateStep, type StepVerdict } from './evaluate.js';
import type { CheckSpec } from './schema.js';

export interface WatchedKind {
  apiVersion: string;
  kind: string;
  namespace?: string;
}

/** The kinds whose changes can change these checks' verdicts. */
export function kindsToWatch(checks: CheckSpec[]): WatchedKind[] {
  const kinds: WatchedKind[] = [];
  for (const c of checks) {
    if ('resource' in c) kinds.push({ apiVersion: c.resource.apiVersion, kind: c.resource.kind, ...(c.resource.namespace ? { namespace: c.resource.namespace } : {}) });
    if ('workload' in c) {
      kinds.push(c.workload.deployment ? { apiVersion: 'apps/v1', kind: 'Deployment' } : { apiVersion: 'v1', kind: 'Pod' });
    }
    if ('http' in c) kinds.push({ apiVersion: 'v1', kind: 'Pod' }, { apiVersion: 'v1', kind: 'Service' });
  }
  const seen = new Set<string>();
  return kinds.filter((k) => {
    const key = `${k.apiVersion}/${k.kind}/${k.namespace ?? ''}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

export interface StepWatcherOptions {
  checks: CheckSpec[];
  context: () => Promise<CheckContext>;
  onVerdict: (verdict: StepVerdict) => void;
  logger: Logger;
  /** Quiet time after a cluster change or terminal activity before evaluating. */
  debounceMs?: number;
  /** Re-evaluation period for checks no watch covers (traffic, terminal output, commands). */
  pollMs?: number;
}

export class StepWatcher {
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  private retryMs = 1000;
  private readonly aborts: { abort(): void }[] = [];
  private watching = false;
  /** Bumped on every (re)arming, so callbacks of aborted watches are ignored. */
  private generation = 0;
  last: StepVerdict | undefined;

  constructor(private readonly options: StepWatcherOptions) {}

  start(): void {
    this.trigger(0);
    const needsPolling = this.options.checks.some((c) => 'http' in c || 'command' in c || 'output' in c);
    if (needsPolling) this.poll = setInterval(() => this.trigger(0), this.options.pollMs ?? 10_000);
  }

  /** Schedules an evaluation after the debounce (or at once with 0). */
  trigger(delayMs = this.options.debounceMs ?? 100): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  /** Evaluates now and resolves with the verdict (the "Check now" button). */
  async runNow(): Promise<StepVerdict | undefined> {
    clearTimeout(this.timer);
    if (this.running) {
      this.again = true;
      await new Promise<void>((resolve) => {
        const wait = setInterval(() => {
          if (!this.running) {
            clearInterval(wait);
            resolve();
          }
        }, 20);
      });
      return this.last;
    }
    await this.run();
    return this.last;
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    this.running = true;
    this.again = false;
    try {
      // No context (the learner's cluster cannot be started): as unreachable as a cluster that does not answer.
      const ctx = await this.options.context().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      const verdict: StepVerdict =
        ctx instanceof Error
          ? { state: 'unreachable', message: ctx.message, durationMs: 0, checks: this.options.checks.map((c) => ({ title: c.title, passed: false, found: 'the cluster is unreachable', ...(c.hint ? { hint: c.hint } : {}) })) }
          : await evaluateStep(this.options.checks, ctx);
      if (this.stopped) return;
      this.last = verdict;
      this.options.onVerdict(verdict);
      if (verdict.state === 'unreachable') {
        this.stopWatches();
        this.timer = setTimeout(() => void this.run(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 15_000);
      } else {
        this.retryMs = 1000;
        if (!this.watching && !(ctx instanceof Error)) void this.startWatches(ctx);
      }
    } catch (err) {
      this.options.logger.warn({ err }, 'step checks could not be evaluated');
    } finally {
      this.running = false;
      if (this.again && !this.stopped) this.trigger();
    }
  }

  private async startWatches(ctx: CheckContext): Promise<void> {
    this.watching = true;
    const generation = ++this.generation;
    for (const kind of kindsToWatch(this.options.checks)) {
      try {
        const path = await ctx.objects.collectionPath(kind.apiVersion, kind.kind, kind.namespace);
        if (this.stopped || generation !== this.generation) return;
        const watch = await ctx.objects.watch(
          path,
          (type) => {
            if (type !== 'BOOKMARK' && generation === this.generation) this.trigger();
          },
          (err) => {
            // A watch ended (server timeout, cluster gone): drop them all and evaluate again,
            // which re-arms them.
            if (this.stopped || generation !== this.generation) return;
            if (err) this.options.logger.debug({ err, path }, 'check watch ended');
            this.stopWatches();
            this.trigger();
          },
        );
        // Stopped while the watch was being opened: nothing else would ever close it.
        if (this.stopped || generation !== this.generation) return watch.abort();
        this.aborts.push(watch);
      } catch (err) {
        // A kind that does not exist yet (e.g. before a CRD is installed) is caught by polling.
        this.options.logger.debug({ err, kind }, 'cannot watch kind');
      }
    }
  }

  private stopWatches(): void {
    this.generation++;
    for (const a of this.aborts.splice(0)) a.abort();
    this.watching = false;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.poll);
    this.stopWatches();
  }
}
