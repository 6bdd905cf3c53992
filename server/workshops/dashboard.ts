/**
 * The instructor's picture of a workshop, computed from what is stored and what the check
 * engine last said: learners × steps with each cell's state, time on the current step, and who
 * looks stuck. Pure functions of their inputs (the clock included) so they are tested alone.
 */
export type CellState = 'done' | 'failing' | 'unreachable' | 'current' | 'todo';

export interface DashboardTrack {
  id: string;
  title: string;
  steps: { id: string; title: string }[];
}

export interface DashboardLearner {
  id: string;
  name: string;
  joinedAt: string;
  /** A terminal is open for this learner (live view possible where it is open). */
  terminal: boolean;
  /** The replica the terminal is open on when it is not the one serving this dashboard (the live view goes through it). */
  terminalElsewhere: string | null;
  /**
   * The replica holding this learner when it has gone silent (no heartbeat for longer than the
   * timeout): live view and resets cannot reach them until it is back. Null while it is alive.
   */
  unreachable: string | null;
  current: { trackId: string; stepId: string; since: string } | null;
  /** Hints opened on the current step. */
  hintsOpened: number;
  stuck: boolean;
  /** Why (for the grid's text and screen readers): "checks failing for 12 min", "opened 2 hints". */
  stuckReasons: string[];
  /** trackId → stepId → state. */
  cells: Record<string, Record<string, CellState>>;
  doneCount: number;
}

export interface Dashboard {
  workshop: {
    id: string;
    title: string;
    tracks: string[];
    capacity: number;
    status: 'open' | 'closed' | 'expired';
    expiresAt: string;
    joinPath: string;
    broadcast: { id: string; text: string; at: string } | null;
  };
  tracks: DashboardTrack[];
  learners: DashboardLearner[];
  stuckAfterMs: number;
  generatedAt: string;
}

export interface LearnerFacts {
  id: string;
  name: string;
  joinedAt: Date;
  terminal: boolean;
  terminalElsewhere?: string | null;
  unreachable?: string | null;
  /** Per track: done steps and the step the learner is on (with since when). */
  progress: Record<string, { done: Set<string>; currentStep: string | null }>;
  position: { trackId: string; stepId: string; since: Date } | null;
  /** Latest check verdict per "track\0step": failing or not, and since when failing. */
  checks: Map<string, { state: 'passed' | 'failed' | 'unreachable' | 'checking' | 'none'; failingSince?: Date }>;
  hintsOnCurrent: number;
}

export const stepKey = (trackId: string, stepId: string) => `${trackId}\u0000${stepId}`;

const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));

export function learnerRow(facts: LearnerFacts, tracks: DashboardTrack[], now: Date, stuckAfterMs: number): DashboardLearner {
  const cells: Record<string, Record<string, CellState>> = {};
  let doneCount = 0;
  for (const track of tracks) {
    const p = facts.progress[track.id];
    const row: Record<string, CellState> = {};
    for (const step of track.steps) {
      const check = facts.checks.get(stepKey(track.id, step.id));
      let state: CellState = 'todo';
      if (p?.done.has(step.id)) state = 'done';
      else if (check?.state === 'failed') state = 'failing';
      else if (check?.state === 'unreachable') state = 'unreachable';
      else if (p?.currentStep === step.id) state = 'current';
      if (state === 'done') doneCount++;
      row[step.id] = state;
    }
    cells[track.id] = row;
  }
  const stuckReasons: string[] = [];
  const position = facts.position;
  if (position) {
    const state = cells[position.trackId]?.[position.stepId];
    const onStepMs = now.getTime() - position.since.getTime();
    if (state !== 'done' && onStepMs >= stuckAfterMs) {
      const check = facts.checks.get(stepKey(position.trackId, position.stepId));
      if (state === 'failing') {
        const failingMs = now.getTime() - (check?.failingSince ?? position.since).getTime();
        if (failingMs >= stuckAfterMs) stuckReasons.push(`checks failing for ${minutes(failingMs)} min`);
      }
      if (facts.hintsOnCurrent > 0) stuckReasons.push(`opened ${facts.hintsOnCurrent} hint${facts.hintsOnCurrent === 1 ? '' : 's'}`);
      if (stuckReasons.length > 0) stuckReasons.push(`${minutes(onStepMs)} min on this step`);
    }
  }
  return {
    id: facts.id,
    name: facts.name,
    joinedAt: facts.joinedAt.toISOString(),
    terminal: facts.terminal,
    terminalElsewhere: facts.terminalElsewhere ?? null,
    unreachable: facts.unreachable ?? null,
    current: position ? { trackId: position.trackId, stepId: position.stepId, since: position.since.toISOString() } : null,
    hintsOpened: facts.hintsOnCurrent,
    stuck: stuckReasons.length > 0,
    stuckReasons,
    cells,
    doneCount,
  };
}
