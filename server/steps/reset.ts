/**
 * "Reset this step" and "Jump to step N": gives the learner the state a step starts from.
 *
 * - Embedded cluster: the step's state (states.ts; built on first use, with progress) is restored
 *   into the learner's own cluster process, and its files and shell state into their home.
 * - Real clusters: the track's cleanup, then the setup steps' solutions are replayed, one command
 *   at a time with progress, in a shell of the learner's (sandboxed like their terminal); the
 *   first failing command stops it and is shown.
 *
 * Either way the learner's terminal is ended first (a command running in it is killed: it would
 * otherwise act on the state being replaced), the step and those after it lose their done marks
 * and saved verdicts, the track's position becomes the step, and the checks run again. One reset
 * per learner at a time; it only ever touches the caller's own cluster and home.
 */
import type { Logger } from 'pino';
import type { CompiledTrack } from '../lessons/compiled.js';
import { applyHome, type HomeTarget } from './home.js';
import { setupChain, type BuildProgress, type ShellState, type StepState, type StepStates } from './states.js';
import { rebaseState } from '../sim/storage/rebase.js';
import type { ReplayCommand } from './replay.js';

export type ResetPhase = 'building' | 'restoring' | 'replaying' | 'done' | 'failed';

export interface ResetStatus {
  trackId: string;
  stepId: string;
  phase: ResetPhase;
  /** Sentence for the page (and screen readers). */
  message: string;
  /** While building or replaying: which solution of how many, and the command. */
  progress?: { index: number; total: number; stepId: string; stepTitle: string; command?: string };
  startedAt: number;
  /** Once done: how long the cluster restore and the whole reset took, in ms. */
  timings?: { restoreMs?: number; totalMs: number };
  /** What a failure was, in words. */
  error?: string;
  /** Once failed: whether the learner's terminal had been ended for it (else their shell is as it was). */
  terminalEnded?: boolean;
}

export interface ResetDeps {
  track(trackId: string): CompiledTrack | undefined;
  backendName: 'sim' | 'kubeconfig' | 'kind';
  /** Embedded cluster only: the cached states and the restore into a learner's cluster process. */
  states?: StepStates;
  /** Restores the state's objects into the learner's cluster; says which node address block that cluster has. */
  restoreCluster?(learnerId: string, state: StepState): Promise<{ ms: number; nodeBlock: string }>;
  /**
   * Real clusters: runs commands in a shell of the learner's, each reported before it starts;
   * throws on the first failure. Says what they left in the shell (replay.ts).
   */
  replay?(learnerId: string, commands: ReplayCommand[], progress: (index: number) => void): Promise<ShellState>;
  homeOf(learnerId: string): HomeTarget;
  /**
   * Whether this learner works in a namespace of their own on a cluster the instructor set up
   * (namespace-per-learner): the cluster-wide steps (download, install) are the instructor's,
   * done once, and replaying them with the learner's rights would only be refused.
   */
  sharesCluster?(learnerId: string): boolean;
  endTerminal(learnerId: string): Promise<void>;
  /** May be async (a workshop's store): the reset is done only once it has settled. */
  resetProgress(learnerId: string, trackId: string, stepIds: string[], currentStep: string): void | Promise<void>;
  rerunChecks(learnerId: string): Promise<void>;
  logger?: Logger;
}

export class ResetError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class StepResets {
  private readonly jobs = new Map<string, ResetStatus>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly listeners = new Map<string, Set<(s: ResetStatus) => void>>();
  /** Learners whose running reset has ended their terminal. */
  private readonly terminalsEnded = new Set<string>();

  constructor(private readonly deps: ResetDeps) {}

  status(learnerId: string): ResetStatus | undefined {
    return this.jobs.get(learnerId);
  }

  /** Updates as they happen; the current status first, if any. */
  subscribe(learnerId: string, listener: (s: ResetStatus) => void): () => void {
    const set = this.listeners.get(learnerId) ?? new Set();
    this.listeners.set(learnerId, set);
    set.add(listener);
    const now = this.jobs.get(learnerId);
    if (now) listener(now);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(learnerId);
    };
  }

  /** Starts a reset; throws ResetError (4xx) for an unknown track or step, or while another reset runs. */
  start(learnerId: string, trackId: string, stepId: string): { status: ResetStatus; done: Promise<void> } {
    const track = this.deps.track(trackId);
    if (!track) throw new ResetError(404, `track "${trackId}" not found`);
    const index = track.steps.findIndex((s) => s.id === stepId);
    if (index < 0) throw new ResetError(404, `track "${trackId}" has no step "${stepId}"`);
    if (!(track.backends as string[]).includes(this.deps.backendName)) throw new ResetError(409, `track "${trackId}" does not run on this playground's cluster (${this.deps.backendName})`);
    if (this.running.has(learnerId)) {
      const current = this.jobs.get(learnerId)!;
      throw new ResetError(409, `a reset to "${current.stepId}" of ${current.trackId} is still running; wait for it to finish`);
    }
    const step = track.steps[index]!;
    const status: ResetStatus = { trackId, stepId, phase: this.deps.backendName === 'sim' ? 'building' : 'replaying', message: `Preparing the start of "${step.title}"…`, startedAt: Date.now() };
    this.update(learnerId, status);
    const done = this.run(learnerId, track, index)
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        this.deps.logger?.warn({ learnerId, trackId, stepId, err: message }, 'step reset failed');
        this.update(learnerId, { ...this.jobs.get(learnerId)!, phase: 'failed', message: `The reset to "${step.title}" failed: ${message}`, error: message, terminalEnded: this.terminalsEnded.has(learnerId) });
      })
      .finally(() => {
        this.running.delete(learnerId);
        this.terminalsEnded.delete(learnerId);
      });
    this.running.set(learnerId, done);
    return { status, done };
  }

  private update(learnerId: string, status: ResetStatus): void {
    this.jobs.set(learnerId, status);
    for (const l of this.listeners.get(learnerId) ?? []) {
      try {
        l(status);
      } catch {
        // a closed stream: its own close handler unsubscribes
      }
    }
  }

  private async run(learnerId: string, track: CompiledTrack, index: number): Promise<void> {
    const started = performance.now();
    const step = track.steps[index]!;
    const chain = setupChain(track, step.id);
    const base = this.jobs.get(learnerId)!;
    let restoreMs: number | undefined;
    if (this.deps.backendName === 'sim') {
      const states = this.deps.states;
      if (!states || !this.deps.restoreCluster) throw new Error('step states are not available on this server');
      const onProgress = (p: BuildProgress) =>
        this.update(learnerId, { ...base, phase: 'building', progress: p, message: `Building the start of "${step.title}" once (it is cached after): step ${p.index} of ${p.total}, ${p.stepTitle}${p.command ? `: ${p.command}` : ''}` });
      const state = await states.ensure(track, step.id, onProgress);
      this.update(learnerId, { ...base, phase: 'restoring', message: `Restoring your cluster and files to the start of "${step.title}"…` });
      await this.deps.endTerminal(learnerId);
      this.terminalsEnded.add(learnerId);
      const restored = await this.deps.restoreCluster(learnerId, state);
      restoreMs = restored.ms;
      // Variables name node addresses (INGRESS_HOST): the learner's cluster's, not the scratch one's.
      const shell = rebaseShell(state.meta.shell, state.meta.nodeBlock, restored.nodeBlock);
      applyHome(this.deps.homeOf(learnerId), { homeDir: state.homeDir, homeEntries: state.meta.homeEntries, shell, what: `${track.id}: the start of step "${step.id}"` }, managedEntries(states, track));
    } else {
      if (!this.deps.replay) throw new Error('replaying solutions is not available on this server');
      await this.deps.endTerminal(learnerId);
      this.terminalsEnded.add(learnerId);
      const what = `${track.id}: the start of step "${step.id}"`;
      // The previous reset's variables and folder must not reach the replay's shell (nor, if it fails, the next one).
      applyHome(this.deps.homeOf(learnerId), { homeDir: '', homeEntries: [], shell: { env: {}, pathPrepend: [] }, what: `${what} (not reached)` }, []);
      const replayed = this.deps.sharesCluster?.(learnerId) ? chain.filter((s) => !s.clusterWide) : chain;
      const commands: ReplayCommand[] = [
        ...track.cleanup.map((command) => ({ stepId: '(cleanup)', stepTitle: "the track's clean-up", command, cleanup: true })),
        ...replayed.flatMap((s) => s.solution.map((command) => ({ stepId: s.id, stepTitle: s.title, command }))),
      ];
      const shell = await this.deps.replay(learnerId, commands, (i) => {
        const c = commands[i]!;
        const stepIndex = c.cleanup ? 0 : replayed.findIndex((s) => s.id === c.stepId) + 1;
        this.update(learnerId, {
          ...base,
          phase: 'replaying',
          progress: { index: stepIndex, total: replayed.length, stepId: c.stepId, stepTitle: c.stepTitle, command: c.command },
          message: `Replaying on your cluster: ${stepIndex === 0 ? "the track's clean-up" : `step ${stepIndex} of ${replayed.length}, ${c.stepTitle}`}: ${c.command}`,
        });
      });
      // Files the solutions made are in the home already (they ran there); the shell's state is written for the next shell.
      applyHome(this.deps.homeOf(learnerId), { homeDir: '', homeEntries: [], shell, what }, []);
    }
    await this.deps.resetProgress(learnerId, track.id, track.steps.slice(index).map((s) => s.id), step.id);
    await this.deps.rerunChecks(learnerId);
    const totalMs = performance.now() - started;
    this.update(learnerId, {
      ...base,
      phase: 'done',
      message: `Ready: your cluster and files are at the start of "${step.title}".`,
      timings: { ...(restoreMs !== undefined ? { restoreMs: Math.round(restoreMs) } : {}), totalMs: Math.round(totalMs) },
    });
  }
}

function rebaseShell(shell: ShellState, from: string, to: string): ShellState {
  const env = Object.fromEntries(Object.entries(shell.env).map(([k, v]) => [k, rebaseState(v, from, to, 0)]));
  return { ...shell, env };
}

/** Every top-level home entry a state of this track holds: what a reset may replace. */
function managedEntries(states: StepStates, track: CompiledTrack): Set<string> {
  const out = new Set<string>();
  for (const s of track.steps) {
    const state = states.cached(track, s.id);
    for (const name of state?.meta.homeEntries ?? []) out.add(name);
  }
  return out;
}

