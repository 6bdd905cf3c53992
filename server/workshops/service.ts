/**
 * Workshops at run time: joining (identity issued only on admission), which learners belong to
 * which workshop, the instructor's live dashboard (pushed on every change, coalesced for a few
 * tens of milliseconds), the learners' broadcast channel, and the instructor's resets.
 */
import type { Logger } from 'pino';
import { ResetError, type ResetStatus } from '../steps/reset.js';
import { learnerRow, stepKey, type Dashboard, type DashboardTrack, type LearnerFacts } from './dashboard.js';
import { workshopStatus, type Broadcast, type JoinOutcome, type Workshop, type WorkshopMember, type WorkshopStore } from './store.js';

export interface ProgressReader {
  get(learnerId: string, trackId: string): { currentStep: string | null; done: string[] };
  checkResults(learnerId: string, trackId: string, stepId: string): { passed: boolean }[] | undefined;
  setStepDone(learnerId: string, trackId: string, stepId: string, done: boolean): void;
  setCurrentStep(learnerId: string, trackId: string, stepId: string): void;
}

export interface WorkshopsOptions {
  store: WorkshopStore;
  progress: ProgressReader;
  tracks: () => DashboardTrack[];
  hasTerminal: (learnerId: string) => boolean;
  /** Wipes and restarts the learner's cluster; undefined when the backend cannot. */
  resetCluster?: (learnerId: string) => Promise<void>;
  /**
   * Starts the learner's own "Reset step" (server/steps/reset.ts: restore or replay, one at a
   * time per learner); throws ResetError for what it refuses. Undefined: no step resets here.
   */
  startStepReset?: (learnerId: string, trackId: string, stepId: string) => { status: ResetStatus; done: Promise<void> };
  /** The learner's step resets as they run, the current one first (StepResets.subscribe). */
  subscribeStepReset?: (learnerId: string, listener: (s: ResetStatus) => void) => () => void;
  /** Whether the learner's identity, cluster and home live on this server (not another replica's). */
  isHere?: (learnerId: string) => boolean;
  logger: Logger;
  clock?: () => Date;
  /** On the current step this long without finishing it, with failing checks or hints opened: stuck. */
  stuckAfterMs?: number;
  /** Changes within this window go out as one update. */
  pushDelayMs?: number;
  /**
   * Updates to one workshop go out at most this often (a room of learners' verdicts would
   * otherwise rebuild the grid on every one); well under the second the dashboard may lag.
   */
  minPushIntervalMs?: number;
}

/** What the learner's page is told: the instructor's message, or that the instructor reset one of their steps. */
export type LearnerMessage =
  | { kind: 'broadcast'; broadcast: { id: string; text: string; at: string } }
  | { kind: 'reset'; reset: InstructorReset };

/** The instructor started a reset of the learner's step; its progress is the learner's reset stream's. */
export interface InstructorReset {
  trackId: string;
  trackTitle: string;
  stepId: string;
  stepTitle: string;
  /** The reset's own start (ResetStatus.startedAt): the page follows that reset, not an earlier one. */
  startedAt: number;
}

type LiveCheck = { state: 'passed' | 'failed' | 'unreachable' | 'checking' | 'none'; failingSince?: Date };

const DEFAULT_STUCK_AFTER_MS = 10 * 60_000;

export class Workshops {
  readonly store: WorkshopStore;
  /** The clock every expiry decision uses (injected in tests). */
  readonly now: () => Date;
  readonly stuckAfterMs: number;
  private readonly pushDelayMs: number;
  private readonly minPushIntervalMs: number;
  /** learnerId → workshopId (null: not a member), so events are routed without a query each. */
  private readonly memberOf = new Map<string, string | null>();
  private readonly live = new Map<string, Map<string, LiveCheck>>();
  private readonly dashboards = new Map<string, { listeners: Set<(d: Dashboard) => void>; timer: NodeJS.Timeout | null; lastPushAt: number }>();
  private readonly learnerListeners = new Map<string, Set<{ learnerId: string; send: (m: LearnerMessage) => void }>>();
  /** The last broadcast sent to this replica's learners per workshop, so another replica's is sent once. */
  private readonly sentBroadcast = new Map<string, string>();

  constructor(private readonly options: WorkshopsOptions) {
    this.store = options.store;
    this.now = options.clock ?? (() => new Date());
    this.stuckAfterMs = options.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS;
    this.pushDelayMs = options.pushDelayMs ?? 30;
    this.minPushIntervalMs = options.minPushIntervalMs ?? 250;
  }

  /** Admits a learner by join code; `issue` makes their identity (only once admitted). */
  async join(code: string, displayName: string, issue: () => string): Promise<JoinOutcome> {
    const outcome = await this.store.join(code, displayName, issue);
    if (outcome.ok) {
      this.memberOf.set(outcome.member.learnerId, outcome.workshop.id);
      this.changed(outcome.workshop.id);
    }
    return outcome;
  }

  /**
   * The learner's workshop membership and whether it still grants access: a workshop gives access
   * until it expires (closing it only stops new joins) or is deleted.
   */
  async access(learnerId: string): Promise<{ member: WorkshopMember; workshop: Workshop; active: boolean } | undefined> {
    const found = await this.store.membership(learnerId);
    this.memberOf.set(learnerId, found?.workshop.id ?? null);
    if (!found) return undefined;
    return { ...found, active: workshopStatus(found.workshop, this.now()) !== 'expired' };
  }

  private async workshopOf(learnerId: string): Promise<string | undefined> {
    if (!this.memberOf.has(learnerId)) this.memberOf.set(learnerId, (await this.store.membership(learnerId))?.workshop.id ?? null);
    return this.memberOf.get(learnerId) ?? undefined;
  }

  /** A check verdict for one of a learner's steps (from the check engine). */
  checkState(learnerId: string, trackId: string, stepId: string, state: LiveCheck['state']): void {
    let checks = this.live.get(learnerId);
    if (!checks) this.live.set(learnerId, (checks = new Map()));
    const key = stepKey(trackId, stepId);
    const before = checks.get(key);
    const failingSince = state === 'failed' ? (before?.state === 'failed' ? before.failingSince : this.now()) : undefined;
    checks.set(key, { state, ...(failingSince ? { failingSince } : {}) });
    void this.learnerChanged(learnerId);
  }

  /** The learner's page moved to a step or marked one done. */
  async progressChanged(learnerId: string, trackId: string, currentStep: string | undefined): Promise<void> {
    if ((await this.workshopOf(learnerId)) === undefined) return;
    if (currentStep) await this.store.setPosition(learnerId, trackId, currentStep);
    await this.learnerChanged(learnerId);
  }

  async hintOpened(learnerId: string, trackId: string, stepId: string): Promise<void> {
    if ((await this.workshopOf(learnerId)) === undefined) return;
    await this.store.recordEvent({ learnerId, kind: 'hint-opened', trackId, stepId });
    await this.learnerChanged(learnerId);
  }

  /** A learner's terminal opened or closed (the dashboard shows who can be watched). */
  terminalChanged(learnerId: string): void {
    void this.learnerChanged(learnerId);
  }

  private async learnerChanged(learnerId: string): Promise<void> {
    try {
      const workshopId = await this.workshopOf(learnerId);
      if (workshopId) this.changed(workshopId);
    } catch (err) {
      this.options.logger.error({ err, learnerId }, 'workshop dashboard update failed');
    }
  }

  /** Pushes a fresh dashboard to the workshop's instructors soon (changes in a burst go as one). */
  changed(workshopId: string): void {
    const entry = this.dashboards.get(workshopId);
    if (!entry || entry.timer) return;
    const delay = Math.max(this.pushDelayMs, entry.lastPushAt + this.minPushIntervalMs - Date.now());
    entry.timer = setTimeout(() => {
      entry.timer = null;
      entry.lastPushAt = Date.now();
      this.dashboard(workshopId).then(
        (d) => {
          if (d) for (const l of entry.listeners) l(d);
        },
        (err: unknown) => this.options.logger.error({ err, workshopId }, 'workshop dashboard failed'),
      );
    }, delay);
  }

  subscribeDashboard(workshopId: string, listener: (d: Dashboard) => void): () => void {
    let entry = this.dashboards.get(workshopId);
    if (!entry) this.dashboards.set(workshopId, (entry = { listeners: new Set(), timer: null, lastPushAt: 0 }));
    entry.listeners.add(listener);
    const current = entry;
    return () => {
      current.listeners.delete(listener);
      if (current.listeners.size === 0) {
        if (current.timer) clearTimeout(current.timer);
        if (this.dashboards.get(workshopId) === current) this.dashboards.delete(workshopId);
      }
    };
  }

  async dashboard(workshopId: string): Promise<Dashboard | undefined> {
    const workshop = await this.store.get(workshopId);
    if (!workshop) return undefined;
    const now = this.now();
    const allTracks = this.options.tracks();
    const tracks = workshop.tracks.map((id) => allTracks.find((t) => t.id === id)).filter((t): t is DashboardTrack => t !== undefined);
    const [members, positions, events] = await Promise.all([this.store.members(workshopId), this.store.positions(workshopId), this.store.events(workshopId)]);
    const learners = members.map((m) => {
      // The most recently moved-to position is where the learner is now.
      const mine = positions.filter((p) => p.learnerId === m.learnerId);
      const position = mine.length ? mine[mine.length - 1]! : null;
      const progress: LearnerFacts['progress'] = {};
      const checks = new Map<string, LiveCheck>(this.live.get(m.learnerId) ?? []);
      for (const track of tracks) {
        const p = this.options.progress.get(m.learnerId, track.id);
        progress[track.id] = { done: new Set(p.done), currentStep: p.currentStep };
        for (const step of track.steps) {
          const key = stepKey(track.id, step.id);
          if (checks.has(key)) continue;
          // Before any live verdict since the server started: the last saved one.
          const saved = this.options.progress.checkResults(m.learnerId, track.id, step.id);
          if (saved && saved.length) checks.set(key, { state: saved.every((c) => c.passed) ? 'passed' : 'failed' });
        }
      }
      const hintsOnCurrent = position
        ? events.filter((e) => e.learnerId === m.learnerId && e.kind === 'hint-opened' && e.trackId === position.trackId && e.stepId === position.stepId).length
        : 0;
      return learnerRow(
        { id: m.learnerId, name: m.displayName, joinedAt: m.joinedAt, terminal: this.options.hasTerminal(m.learnerId), progress, position, checks, hintsOnCurrent },
        tracks,
        now,
        this.stuckAfterMs,
      );
    });
    return {
      workshop: {
        id: workshop.id,
        title: workshop.title,
        tracks: workshop.tracks,
        capacity: workshop.capacity,
        status: workshopStatus(workshop, now),
        expiresAt: workshop.expiresAt.toISOString(),
        joinPath: `/join/${workshop.joinCode}`,
        broadcast: workshop.broadcast ? wireBroadcast(workshop.broadcast) : null,
      },
      tracks,
      learners,
      stuckAfterMs: this.stuckAfterMs,
      generatedAt: now.toISOString(),
    };
  }

  /** The learner's page listens here for the instructor's messages; the current one comes at once. */
  async subscribeLearner(learnerId: string, send: (m: LearnerMessage) => void): Promise<() => void> {
    const found = await this.store.membership(learnerId);
    if (!found) return () => {};
    const workshopId = found.workshop.id;
    if (found.workshop.broadcast) {
      send({ kind: 'broadcast', broadcast: wireBroadcast(found.workshop.broadcast) });
      this.sentBroadcast.set(workshopId, found.workshop.broadcast.id);
    }
    let set = this.learnerListeners.get(workshopId);
    if (!set) this.learnerListeners.set(workshopId, (set = new Set()));
    const entry = { learnerId, send };
    set.add(entry);
    const current = set;
    return () => {
      current.delete(entry);
      if (current.size === 0 && this.learnerListeners.get(workshopId) === current) this.learnerListeners.delete(workshopId);
    };
  }

  async broadcast(workshopId: string, text: string): Promise<Broadcast | undefined> {
    const broadcast = await this.store.setBroadcast(workshopId, text);
    if (!broadcast) return undefined;
    this.sentBroadcast.set(workshopId, broadcast.id);
    for (const l of this.learnerListeners.get(workshopId) ?? []) l.send({ kind: 'broadcast', broadcast: wireBroadcast(broadcast) });
    this.changed(workshopId);
    return broadcast;
  }

  /**
   * Another replica changed the workshop (PostgreSQL's NOTIFY): this replica's dashboards are
   * pushed again, and its learners get a broadcast the instructor sent through the other one.
   */
  async changedElsewhere(workshopId: string): Promise<void> {
    this.changed(workshopId);
    const listeners = this.learnerListeners.get(workshopId);
    if (!listeners?.size) return;
    try {
      const broadcast = (await this.store.get(workshopId))?.broadcast;
      if (!broadcast || this.sentBroadcast.get(workshopId) === broadcast.id) return;
      this.sentBroadcast.set(workshopId, broadcast.id);
      for (const l of listeners) l.send({ kind: 'broadcast', broadcast: wireBroadcast(broadcast) });
    } catch (err) {
      this.options.logger.error({ err, workshopId }, 'workshop update from another replica failed');
    }
  }

  /**
   * The instructor's "reset step": the same reset as the learner's own (their cluster and home go
   * back to the step's start, their terminal is replaced), answered at once while it runs. The
   * learner's page is told, and follows its progress as for its own reset.
   */
  async resetStep(learnerId: string, trackId: string, stepId: string): Promise<ResetStatus> {
    if (!this.options.startStepReset) throw new ResetError(501, 'step resets are not available on this server');
    // On another replica the reset would make the learner a cluster and home where they are not.
    if (this.options.isHere && !this.options.isHere(learnerId)) {
      throw new ResetError(409, "this learner works on another playground pod: their cluster and files are there, so their step can only be reset through that pod");
    }
    const { status, done } = this.options.startStepReset(learnerId, trackId, stepId);
    const track = this.options.tracks().find((t) => t.id === trackId);
    const reset: InstructorReset = {
      trackId,
      trackTitle: track?.title ?? trackId,
      stepId,
      stepTitle: track?.steps.find((s) => s.id === stepId)?.title ?? stepId,
      startedAt: status.startedAt,
    };
    const workshopId = await this.workshopOf(learnerId);
    for (const l of (workshopId && this.learnerListeners.get(workshopId)) || []) if (l.learnerId === learnerId) l.send({ kind: 'reset', reset });
    // Failed or done, the row is drawn again (a failure leaves the learner where they were).
    void done.then(() => this.learnerChanged(learnerId));
    return status;
  }

  /** The instructor follows a learner's reset: its phases, and what failed. */
  subscribeStepReset(learnerId: string, listener: (s: ResetStatus) => void): () => void {
    return this.options.subscribeStepReset?.(learnerId, listener) ?? (() => {});
  }

  /**
   * A step reset (the learner's own or the instructor's) rewound the learner's progress: the steps'
   * old verdicts are gone and the learner is on the step again.
   */
  async stepsReset(learnerId: string, trackId: string, stepIds: string[], currentStep: string): Promise<void> {
    const live = this.live.get(learnerId);
    for (const stepId of stepIds) live?.delete(stepKey(trackId, stepId));
    if ((await this.workshopOf(learnerId)) === undefined) return;
    await this.store.setPosition(learnerId, trackId, currentStep);
    await this.learnerChanged(learnerId);
  }

  get canResetCluster(): boolean {
    return this.options.resetCluster !== undefined;
  }

  async resetCluster(learnerId: string): Promise<void> {
    if (!this.options.resetCluster) throw new Error('this backend cannot reset a cluster');
    await this.options.resetCluster(learnerId);
    this.live.delete(learnerId);
    await this.learnerChanged(learnerId);
  }

  async delete(workshopId: string): Promise<boolean> {
    const members = await this.store.members(workshopId);
    const deleted = await this.store.delete(workshopId);
    for (const m of members) this.memberOf.delete(m.learnerId);
    return deleted;
  }

  close(): void {
    for (const entry of this.dashboards.values()) if (entry.timer) clearTimeout(entry.timer);
    this.dashboards.clear();
    this.learnerListeners.clear();
  }
}

const wireBroadcast = (b: Broadcast) => ({ id: b.id, text: b.text, at: b.at.toISOString() });
