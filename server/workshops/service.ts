/**
 * Workshops at run time: joining (identity issued only on admission), which learners belong to
 * which workshop, the instructor's live dashboard (pushed on every change, coalesced for a few
 * tens of milliseconds), the learners' broadcast channel, and the instructor's resets.
 *
 * What the dashboard shows of a member (done marks, check verdicts, an open terminal) is written
 * to the workshop store by the replica the learner is on, on change only, so a dashboard on any
 * replica reads every member from the one store. Each member's replica (the one that admitted
 * them) is recorded too, and with the replicas' heartbeats (replicas.ts) the instructor's live view
 * and resets are routed to it, or refused when it has gone silent.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import { ResetError, type ResetStatus } from '../steps/reset.js';
import type { Replicas, ReplicaView } from './replicas.js';
import { learnerRow, stepKey, type Dashboard, type DashboardTrack, type LearnerFacts } from './dashboard.js';
import {
  workshopStatus,
  type Broadcast,
  type CheckState,
  type JoinOutcome,
  type StepRecord,
  type TerminalPresence,
  type Workshop,
  type WorkshopMember,
  type WorkshopStore,
} from './store.js';

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
  /** Whether this replica has a terminal for the learner. */
  hasTerminal: (learnerId: string) => boolean;
  /**
   * This replica's name in the store's terminal records (default: host name and process id); the
   * same name after a restart lets the replica clear what it left behind.
   */
  replica?: string;
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
  /**
   * The replicas sharing the store and their heartbeats: a learner on a live one is reached through
   * it, on a silent one is shown unreachable. Absent (one server, or tests): every replica counts as live.
   */
  replicas?: Replicas;
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

type LiveCheck = { state: CheckState; failingSince?: Date };

/**
 * Where an instructor's action on a learner (live view, resets) runs: here; through the live
 * replica holding the learner; nowhere, that replica having gone silent; or unknown (a member
 * from before replicas were recorded, with no terminal open anywhere).
 */
export type LearnerRoute =
  | { kind: 'here' }
  | { kind: 'replica'; name: string; url: string }
  | { kind: 'gone'; name: string; message: string }
  | { kind: 'unknown' };

/** The start of what an instructor is told when the learner's replica is gone (503). */
export const REPLICA_GONE = 'this learner’s playground pod is unreachable';

function goneMessage(name: string, silentMs: number | undefined): string {
  const why = silentMs !== undefined ? `no heartbeat for ${Math.max(1, Math.round(silentMs / 1000))} s: it crashed, or its node was lost` : 'it stopped';
  return `${REPLICA_GONE} (${name}; ${why}): their terminal, cluster and files are there, so this works again once that pod is back`;
}

/** What this replica last wrote to (or found in) the store for one of a learner's steps. */
type Recorded = { check?: CheckState | null; done?: boolean };

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
  /** learnerId → stepKey → what the store holds, as far as this replica wrote it: unchanged verdicts write nothing. */
  private readonly recorded = new Map<string, Map<string, Recorded>>();
  /** learnerId → whether the store says this replica has the learner's terminal open. */
  private readonly terminalRecorded = new Map<string, boolean>();
  /** Learners whose terminal output queued a terminalChanged not run yet (output comes in many chunks). */
  private readonly terminalSyncing = new Set<string>();
  /** learnerId → the learner's store writes in order (a passing verdict must not overtake the failing one before it). */
  private readonly writes = new Map<string, Promise<void>>();
  readonly replica: string;
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
    this.replica = options.replica ?? `${os.hostname()}:${process.pid}`;
  }

  /** Admits a learner by join code; `issue` makes their identity (only once admitted). */
  async join(code: string, displayName: string, issue: () => string): Promise<JoinOutcome> {
    // The identity is issued here, so the learner is this replica's from now on.
    const outcome = await this.store.join(code, displayName, issue, this.replica);
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

  /**
   * Runs one of a member's store writes after the learner's earlier ones; `write` says whether it
   * changed anything, and only then are dashboards pushed. A learner in no workshop writes nothing.
   */
  private write(learnerId: string, write: () => Promise<boolean>): Promise<void> {
    // Queued synchronously: the order of calls is the order of writes.
    const run = async () => {
      try {
        if ((await this.workshopOf(learnerId)) === undefined) return;
        if (await write()) await this.learnerChanged(learnerId);
      } catch (err) {
        this.options.logger.error({ err, learnerId }, 'workshop state update failed');
      }
    };
    const next = (this.writes.get(learnerId) ?? Promise.resolve()).then(run);
    this.writes.set(learnerId, next);
    void next.then(() => {
      if (this.writes.get(learnerId) === next) this.writes.delete(learnerId);
    });
    return next;
  }

  private recordedOf(learnerId: string, trackId: string, stepId: string): Recorded {
    let mine = this.recorded.get(learnerId);
    if (!mine) this.recorded.set(learnerId, (mine = new Map()));
    const key = stepKey(trackId, stepId);
    let r = mine.get(key);
    if (!r) mine.set(key, (r = {}));
    return r;
  }

  /** Writes a verdict unless it is the one this replica last wrote; true when the store changed. */
  private async recordCheck(learnerId: string, trackId: string, stepId: string, state: CheckState | null): Promise<boolean> {
    const r = this.recordedOf(learnerId, trackId, stepId);
    if (r.check === state) return false;
    delete r.check; // unknown until the write is through (a failed write is retried by the next verdict)
    const changed = await this.store.setCheckState(learnerId, trackId, stepId, state);
    r.check = state;
    return changed;
  }

  private async recordDone(learnerId: string, trackId: string, stepId: string, done: boolean): Promise<boolean> {
    const r = this.recordedOf(learnerId, trackId, stepId);
    if (r.done === done) return false;
    delete r.done;
    const changed = await this.store.setStepDone(learnerId, trackId, stepId, done);
    r.done = done;
    return changed;
  }

  /** A check verdict for one of a learner's steps (from the check engine), and whether the step counts as done. */
  checkState(learnerId: string, trackId: string, stepId: string, state: CheckState, done?: boolean): Promise<void> {
    return this.write(learnerId, async () => {
      const checkChanged = await this.recordCheck(learnerId, trackId, stepId, state);
      const doneChanged = done !== undefined && (await this.recordDone(learnerId, trackId, stepId, done));
      return checkChanged || doneChanged;
    });
  }

  /** The learner's page moved to a step or marked one done. */
  progressChanged(learnerId: string, trackId: string, currentStep: string | undefined): Promise<void> {
    return this.write(learnerId, async () => {
      if (currentStep) await this.store.setPosition(learnerId, trackId, currentStep);
      await this.syncDone(learnerId, trackId);
      return true;
    });
  }

  /** The track's done marks as the progress store has them, into the workshop store. */
  private async syncDone(learnerId: string, trackId: string): Promise<boolean> {
    const track = this.options.tracks().find((t) => t.id === trackId);
    if (!track) return false;
    const done = new Set(this.options.progress.get(learnerId, trackId).done);
    let changed = false;
    for (const step of track.steps) if (await this.recordDone(learnerId, trackId, step.id, done.has(step.id))) changed = true;
    return changed;
  }

  /**
   * The learner's work on these steps was reset (their own Reset or Jump, or the instructor's):
   * no longer done, no verdict until the next check, and `currentStep` is where they are.
   */
  stepsReset(learnerId: string, trackId: string, stepIds: string[], currentStep?: string): Promise<void> {
    // Queued at once, so a verdict that follows the reset is written after it.
    return this.write(learnerId, async () => {
      if (currentStep) await this.store.setPosition(learnerId, trackId, currentStep);
      let changed = currentStep !== undefined;
      for (const stepId of stepIds) {
        if (await this.recordCheck(learnerId, trackId, stepId, null)) changed = true;
        if (await this.recordDone(learnerId, trackId, stepId, false)) changed = true;
      }
      return changed;
    });
  }

  async hintOpened(learnerId: string, trackId: string, stepId: string): Promise<void> {
    if ((await this.workshopOf(learnerId)) === undefined) return;
    await this.store.recordEvent({ learnerId, kind: 'hint-opened', trackId, stepId });
    await this.learnerChanged(learnerId);
  }

  /**
   * A learner's terminal opened or closed (the dashboard shows who can be watched): recorded as
   * this replica's when it differs from what the store was last told.
   */
  terminalChanged(learnerId: string): Promise<void> {
    return this.write(learnerId, async () => {
      const open = this.options.hasTerminal(learnerId);
      if (this.terminalRecorded.get(learnerId) === open) return false;
      this.terminalRecorded.delete(learnerId);
      const changed = await this.store.setTerminal(learnerId, this.replica, open);
      this.terminalRecorded.set(learnerId, open);
      return changed;
    });
  }

  /**
   * Output from a learner's terminal: for a member whose open terminal is not recorded yet (a
   * shell that started after the upgrade was counted), records it. Cheap enough for every chunk.
   */
  terminalActive(learnerId: string): void {
    if (this.terminalRecorded.get(learnerId) === true || !this.memberOf.get(learnerId) || this.terminalSyncing.has(learnerId)) return;
    this.terminalSyncing.add(learnerId);
    void this.terminalChanged(learnerId).finally(() => this.terminalSyncing.delete(learnerId));
  }

  /**
   * Forgets what the store says is open on this replica, after this replica's pending writes: at
   * start (a crash left it), and at shutdown (the terminals end with the process).
   */
  async clearTerminals(): Promise<void> {
    await Promise.allSettled([...this.writes.values()]);
    this.terminalRecorded.clear();
    await this.store.clearTerminals(this.replica);
  }

  /**
   * The other replica holding a member (their identity, terminal, cluster and files): the one that
   * admitted them, or for a member from before that was recorded, where their terminal is open.
   * Undefined when it is this one, or unknown.
   */
  private holderOf(m: WorkshopMember, terminals: TerminalPresence[] | undefined): string | undefined {
    if (this.options.isHere?.(m.learnerId) ?? true) return undefined;
    const holder = m.replica ?? terminals?.find((t) => t.replica !== this.replica)?.replica;
    return holder === this.replica ? undefined : holder;
  }

  /** Where the instructor's live view and resets of this learner run (see LearnerRoute). */
  async route(learnerId: string): Promise<LearnerRoute> {
    if (this.options.isHere?.(learnerId) ?? true) return { kind: 'here' };
    const found = await this.store.membership(learnerId);
    if (!found) return { kind: 'unknown' };
    const terminals = found.member.replica ? undefined : (await this.store.terminals(found.workshop.id)).filter((t) => t.learnerId === learnerId);
    const holder = this.holderOf(found.member, terminals);
    if (holder === undefined || !this.options.replicas) return { kind: 'unknown' };
    const view: ReplicaView = await this.options.replicas.view();
    const live = view.live(holder);
    if (live) return { kind: 'replica', name: holder, url: live.url };
    return { kind: 'gone', name: holder, message: goneMessage(holder, view.record(holder)?.silentMs) };
  }

  /** The set of live replicas changed: every open dashboard is drawn again (terminals shown, who is unreachable). */
  replicasChanged(): void {
    for (const workshopId of this.dashboards.keys()) this.changed(workshopId);
  }

  /** Where the learner's terminal is open when not on this replica (the live view works only there). */
  async terminalElsewhere(learnerId: string): Promise<string | undefined> {
    if (this.options.hasTerminal(learnerId)) return undefined;
    const workshopId = await this.workshopOf(learnerId);
    if (!workshopId) return undefined;
    return (await this.store.terminals(workshopId)).find((t) => t.learnerId === learnerId && t.replica !== this.replica)?.replica;
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
    // One query per table, whatever the number of learners.
    const [members, positions, events, records, terminals, view] = await Promise.all([
      this.store.members(workshopId),
      this.store.positions(workshopId),
      this.store.events(workshopId),
      this.store.stepRecords(workshopId),
      this.store.terminals(workshopId),
      this.options.replicas?.view(),
    ]);
    const live = (replica: string) => !view || view.live(replica) !== undefined;
    const stepsOf = new Map<string, Map<string, StepRecord>>();
    for (const r of records) {
      let mine = stepsOf.get(r.learnerId);
      if (!mine) stepsOf.set(r.learnerId, (mine = new Map()));
      mine.set(stepKey(r.trackId, r.stepId), r);
    }
    const terminalsOf = new Map<string, TerminalPresence[]>();
    for (const t of terminals) terminalsOf.set(t.learnerId, [...(terminalsOf.get(t.learnerId) ?? []), t]);
    const learners = members.map((m) => {
      // The most recently moved-to position is where the learner is now.
      const mine = positions.filter((p) => p.learnerId === m.learnerId);
      const position = mine.length ? mine[mine.length - 1]! : null;
      const stored = stepsOf.get(m.learnerId);
      const progress: LearnerFacts['progress'] = {};
      const checks = new Map<string, LiveCheck>();
      for (const track of tracks) {
        const storedPosition = mine.find((p) => p.trackId === track.id);
        // This replica's progress store, only for what the workshop store has nothing of yet
        // (a learner of this replica from before it recorded there).
        let local: { currentStep: string | null; done: string[] } | undefined;
        const localProgress = () => (local ??= this.options.progress.get(m.learnerId, track.id));
        const done = new Set<string>();
        for (const step of track.steps) {
          const key = stepKey(track.id, step.id);
          const r = stored?.get(key);
          if (r?.done ?? localProgress().done.includes(step.id)) done.add(step.id);
          if (r?.check) {
            checks.set(key, { state: r.check, ...(r.failingSince ? { failingSince: r.failingSince } : {}) });
            continue;
          }
          const saved = this.options.progress.checkResults(m.learnerId, track.id, step.id);
          if (saved && saved.length) checks.set(key, { state: saved.every((c) => c.passed) ? 'passed' : 'failed' });
        }
        progress[track.id] = { done, currentStep: storedPosition?.stepId ?? localProgress().currentStep };
      }
      const hintsOnCurrent = position
        ? events.filter((e) => e.learnerId === m.learnerId && e.kind === 'hint-opened' && e.trackId === position.trackId && e.stepId === position.stepId).length
        : 0;
      const here = this.options.hasTerminal(m.learnerId);
      // A terminal recorded on a replica gone silent ended with it (that replica cannot say so).
      const elsewhere = here ? undefined : terminalsOf.get(m.learnerId)?.find((t) => t.replica !== this.replica && live(t.replica))?.replica;
      // Only replicas sharing a store can be gone (one server alone asks nothing more per member).
      const holder = view ? this.holderOf(m, terminalsOf.get(m.learnerId)) : undefined;
      const unreachable = holder !== undefined && !live(holder) ? holder : null;
      return learnerRow(
        {
          id: m.learnerId,
          name: m.displayName,
          joinedAt: m.joinedAt,
          terminal: here || elsewhere !== undefined,
          terminalElsewhere: elsewhere ?? null,
          unreachable,
          progress,
          position,
          checks,
          hintsOnCurrent,
        },
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
    this.mustBeHere(learnerId, 'their step');
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

  get canResetCluster(): boolean {
    return this.options.resetCluster !== undefined;
  }

  /** On another replica a reset would make the learner a cluster and home where they are not. */
  private mustBeHere(learnerId: string, what: string): void {
    if (this.options.isHere && !this.options.isHere(learnerId)) {
      throw new ResetError(409, `this learner works on another playground pod: their cluster and files are there, so ${what} can only be reset through that pod`);
    }
  }

  async resetCluster(learnerId: string): Promise<void> {
    if (!this.options.resetCluster) throw new Error('this backend cannot reset a cluster');
    this.mustBeHere(learnerId, 'their cluster');
    await this.options.resetCluster(learnerId);
    await this.checksReset(learnerId);
    await this.learnerChanged(learnerId);
  }

  /** The learner's cluster was replaced: no verdict stands until the next check. */
  private checksReset(learnerId: string): Promise<void> {
    return this.write(learnerId, async () => {
      let changed = false;
      for (const track of this.options.tracks()) for (const step of track.steps) if (await this.recordCheck(learnerId, track.id, step.id, null)) changed = true;
      return changed;
    });
  }

  async delete(workshopId: string): Promise<boolean> {
    const members = await this.store.members(workshopId);
    const deleted = await this.store.delete(workshopId);
    for (const m of members) {
      this.memberOf.delete(m.learnerId);
      this.recorded.delete(m.learnerId);
      this.terminalRecorded.delete(m.learnerId);
    }
    return deleted;
  }

  close(): void {
    for (const entry of this.dashboards.values()) if (entry.timer) clearTimeout(entry.timer);
    this.dashboards.clear();
    this.learnerListeners.clear();
  }
}

const wireBroadcast = (b: Broadcast) => ({ id: b.id, text: b.text, at: b.at.toISOString() });
