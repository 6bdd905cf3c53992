/**
 * Live step checks for learners: one watcher per (learner, track, step) that some page is
 * showing, shared by that learner's tabs, stopped when the last tab leaves. Verdicts are
 * pushed to the pages, persisted, and a step whose checks all pass is marked done (and stays
 * done unless the step says its checks are not sticky).
 */
import type { Logger } from 'pino';
import type { CheckResult, StepVerdict } from './evaluate.js';
import type { CheckContext } from './kinds/index.js';
import type { CheckSpec } from './schema.js';
import { StepWatcher } from './watcher.js';
import type { OutputMark } from '../terminal/transcript.js';

export interface StepCheckState {
  trackId: string;
  stepId: string;
  /** `none`: the step declares no checks; `checking`: no verdict yet. */
  state: 'none' | 'checking' | 'passed' | 'failed' | 'unreachable';
  checks: CheckResult[];
  /** For `unreachable`: what went wrong talking to the cluster. */
  message?: string;
  /** Whether the step counts as done (sticky once passed, unless the step says otherwise). */
  done: boolean;
  evaluatedAt?: string;
  durationMs?: number;
}

export interface StepChecks {
  checks: CheckSpec[];
  sticky: boolean;
}

export interface CheckPersistence {
  isStepDone(learnerId: string, trackId: string, stepId: string): boolean;
  setStepDone(learnerId: string, trackId: string, stepId: string, done: boolean): void;
  saveCheckResults(learnerId: string, trackId: string, stepId: string, results: CheckResult[]): void;
  checkResults(learnerId: string, trackId: string, stepId: string): CheckResult[] | undefined;
}

export interface CheckEngineOptions {
  logger: Logger;
  persistence: CheckPersistence;
  stepChecks(trackId: string, stepId: string): StepChecks | undefined;
  /** `since`: where the learner's terminal output stood when the step was opened (output checks count only later commands). */
  contextFor(learnerId: string, since: OutputMark | undefined): Promise<CheckContext>;
  /** Where the learner's terminal output stands now. */
  outputMark?(learnerId: string): OutputMark;
  debounceMs?: number;
}

type Listener = (state: StepCheckState) => void;

const ACTIVITY_QUIET_MS = 400;

interface Subscription {
  watcher: StepWatcher;
  listeners: Set<Listener>;
  state: StepCheckState;
  /** Where the step's output checks start reading the terminal (moved by restarted()). */
  mark: { since: OutputMark | undefined };
}

export class CheckEngine {
  private readonly subs = new Map<string, Subscription>();
  /** The step each learner opened last and where their terminal stood then (a reload of it keeps the mark). */
  private readonly opened = new Map<string, { key: string; since: OutputMark | undefined }>();
  /** Told every verdict of every learner (the instructor's dashboard). */
  private readonly stateListeners = new Set<(learnerId: string, state: StepCheckState) => void>();

  constructor(private readonly options: CheckEngineOptions) {}

  private key(learnerId: string, trackId: string, stepId: string) {
    return `${learnerId}\u0000${trackId}\u0000${stepId}`;
  }

  /** The state a page shows before the first live verdict: what was last persisted. */
  initialState(learnerId: string, trackId: string, stepId: string): StepCheckState | undefined {
    const step = this.options.stepChecks(trackId, stepId);
    if (!step) return undefined;
    const done = this.options.persistence.isStepDone(learnerId, trackId, stepId);
    if (step.checks.length === 0) return { trackId, stepId, state: 'none', checks: [], done };
    const saved = this.options.persistence.checkResults(learnerId, trackId, stepId);
    const checks = saved ?? step.checks.map((c) => ({ title: c.title, passed: false, found: 'not checked yet', ...(c.hint ? { hint: c.hint } : {}) }));
    return { trackId, stepId, state: 'checking', checks, done };
  }

  /** Streams a step's verdicts to a listener until the returned function is called. */
  subscribe(learnerId: string, trackId: string, stepId: string, listener: Listener): (() => void) | undefined {
    const initial = this.initialState(learnerId, trackId, stepId);
    if (!initial) return undefined;
    listener(initial);
    const step = this.options.stepChecks(trackId, stepId)!;
    if (step.checks.length === 0) return () => {};
    const key = this.key(learnerId, trackId, stepId);
    let sub = this.subs.get(key);
    if (!sub) {
      const last = this.opened.get(learnerId);
      const since = last?.key === key ? last.since : this.options.outputMark?.(learnerId);
      this.opened.set(learnerId, { key, since });
      const mark = { since };
      const created: Subscription = {
        listeners: new Set(),
        state: initial,
        mark,
        watcher: new StepWatcher({
          checks: step.checks,
          context: () => this.options.contextFor(learnerId, mark.since),
          logger: this.options.logger,
          ...(this.options.debounceMs !== undefined ? { debounceMs: this.options.debounceMs } : {}),
          onVerdict: (verdict) => {
            created.state = this.record(learnerId, trackId, stepId, step, verdict);
            for (const l of created.listeners) l(created.state);
            for (const l of this.stateListeners) l(learnerId, created.state);
          },
        }),
      };
      sub = created;
      this.subs.set(key, sub);
      sub.watcher.start();
    } else if (sub.state.state !== 'checking') {
      listener(sub.state);
    }
    sub.listeners.add(listener);
    const current = sub;
    return () => {
      current.listeners.delete(listener);
      if (current.listeners.size === 0) {
        current.watcher.stop();
        if (this.subs.get(key) === current) this.subs.delete(key);
      }
    };
  }

  private record(learnerId: string, trackId: string, stepId: string, step: StepChecks, verdict: StepVerdict): StepCheckState {
    const { persistence } = this.options;
    const wasDone = persistence.isStepDone(learnerId, trackId, stepId);
    let done = wasDone;
    if (verdict.state === 'passed' && !wasDone) {
      persistence.setStepDone(learnerId, trackId, stepId, true);
      done = true;
    } else if (verdict.state === 'failed' && wasDone && !step.sticky) {
      persistence.setStepDone(learnerId, trackId, stepId, false);
      done = false;
    }
    if (verdict.state !== 'unreachable') persistence.saveCheckResults(learnerId, trackId, stepId, verdict.checks);
    return {
      trackId,
      stepId,
      state: verdict.state,
      checks: verdict.checks,
      ...(verdict.state === 'unreachable' ? { message: verdict.message } : {}),
      done,
      evaluatedAt: new Date().toISOString(),
      durationMs: Math.round(verdict.durationMs),
    };
  }

  /** Listens for every learner's verdicts until the returned function is called. */
  onState(listener: (learnerId: string, state: StepCheckState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** "Check now": evaluates at once and returns the verdict (also pushed to every tab). */
  async runNow(learnerId: string, trackId: string, stepId: string): Promise<StepCheckState | undefined> {
    const sub = this.subs.get(this.key(learnerId, trackId, stepId));
    if (sub) {
      await sub.watcher.runNow();
      return sub.state;
    }
    let state: StepCheckState | undefined;
    const unsubscribe = this.subscribe(learnerId, trackId, stepId, (s) => (state = s));
    const fresh = this.subs.get(this.key(learnerId, trackId, stepId));
    if (fresh) await fresh.watcher.runNow();
    unsubscribe?.();
    return fresh?.state ?? state;
  }

  /**
   * The learner's cluster and terminal were replaced (a step reset or jump): output checks count
   * only what runs from now on, and every watched step is checked again at once.
   */
  async restarted(learnerId: string): Promise<void> {
    const prefix = `${learnerId}\u0000`;
    const since = this.options.outputMark?.(learnerId);
    const opened = this.opened.get(learnerId);
    if (opened) this.opened.set(learnerId, { key: opened.key, since });
    const runs: Promise<unknown>[] = [];
    for (const [key, sub] of this.subs) {
      if (!key.startsWith(prefix)) continue;
      sub.mark.since = since;
      runs.push(sub.watcher.runNow());
    }
    await Promise.allSettled(runs);
  }

  /** Whether some page is watching one of the learner's steps. */
  watching(learnerId: string): boolean {
    const prefix = `${learnerId}\u0000`;
    for (const key of this.subs.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** Terminal activity: the learner may have just changed the cluster; look again soon. */
  activity(learnerId: string): void {
    const prefix = `${learnerId}\u0000`;
    // Output streams while a command runs: wait for a quiet moment rather than re-check per chunk.
    for (const [key, sub] of this.subs) if (key.startsWith(prefix)) sub.watcher.trigger(ACTIVITY_QUIET_MS);
  }

  close(): void {
    for (const sub of this.subs.values()) sub.watcher.stop();
    this.subs.clear();
  }
}
