/**
 * Workshops: what an instructor creates (title, tracks, capacity, expiry, a join code), who joined
 * it under which display name, and what the dashboard needs of each member (since when they are
 * on their step, hints opened, done marks and check states, where a terminal is open) and the
 * broadcast message: all of it here, so every replica's dashboard shows every member.
 *
 * One interface, asynchronous throughout, so a PostgreSQL implementation can sit behind it for
 * several replicas; the SQLite one (sqlite-store.ts) is the embedded default. The clock is
 * injected so capacity and expiry are testable without waiting.
 */
export interface Workshop {
  id: string;
  title: string;
  tracks: string[];
  capacity: number;
  /** The secret part of the join link: /join/<joinCode>. */
  joinCode: string;
  createdAt: Date;
  expiresAt: Date;
  closedAt: Date | null;
  broadcast: Broadcast | null;
}

export interface Broadcast {
  id: string;
  text: string;
  at: Date;
}

export interface WorkshopMember {
  workshopId: string;
  learnerId: string;
  displayName: string;
  joinedAt: Date;
  /** The replica that issued the learner's identity, where their terminal, cluster and files live (null: joined before replicas were recorded). */
  replica: string | null;
}

/** A playground replica as it registered itself: other replicas reach it at `url` while its heartbeat is fresh. */
export interface ReplicaRecord {
  name: string;
  /** Its internal base URL (--advertise-url), written only by the replica itself. */
  url: string;
  /**
   * How long ago its last heartbeat was, by the store's clock (PostgreSQL's own for the shared store):
   * one clock judges every replica's heartbeat, so pods whose clocks disagree still see each other
   * alive.
   */
  silentMs: number;
}

export type WorkshopStatus = 'open' | 'closed' | 'expired';

export type JoinRefusal = 'not-found' | 'closed' | 'expired' | 'full' | 'name-taken';
export type JoinOutcome = { ok: true; member: WorkshopMember; workshop: Workshop } | { ok: false; reason: JoinRefusal; workshop?: Workshop };

export interface NewWorkshop {
  title: string;
  tracks: string[];
  capacity: number;
  expiresAt: Date;
}

export interface StepPosition {
  learnerId: string;
  trackId: string;
  stepId: string;
  /** When the learner moved to this step (unchanged by reloads of the same step). */
  since: Date;
}

export interface LearnerEvent {
  learnerId: string;
  kind: 'hint-opened';
  trackId: string;
  stepId: string;
  at: Date;
}

export type CheckState = 'passed' | 'failed' | 'unreachable' | 'checking' | 'none';

/**
 * What the dashboard knows of one member's step, written by the replica the learner is on: the
 * done mark and the latest check verdict (null: not recorded, the dashboard falls back to the
 * local progress store), and since when it has been failing.
 */
export interface StepRecord {
  learnerId: string;
  trackId: string;
  stepId: string;
  done: boolean | null;
  check: CheckState | null;
  failingSince: Date | null;
  /** When the record last changed (an unchanged write leaves it). */
  updatedAt: Date;
}

/** A workshop_step row, as both stores read it. */
export interface StepRow {
  learner_id: string;
  track_id: string;
  step_id: string;
  done: number | null;
  check_state: CheckState | null;
  failing_since: string | null;
  updated_at: string;
}

export const toStepRecord = (r: StepRow): StepRecord => ({
  learnerId: r.learner_id,
  trackId: r.track_id,
  stepId: r.step_id,
  done: r.done === null ? null : r.done === 1,
  check: r.check_state,
  failingSince: r.failing_since ? new Date(r.failing_since) : null,
  updatedAt: new Date(r.updated_at),
});

/** A member's terminal open on a replica (a learner is pinned to one, so normally one row). */
export interface TerminalPresence {
  learnerId: string;
  replica: string;
  since: Date;
}

export interface WorkshopStore {
  create(input: NewWorkshop): Promise<Workshop>;
  get(id: string): Promise<Workshop | undefined>;
  byJoinCode(code: string): Promise<Workshop | undefined>;
  list(): Promise<Workshop[]>;
  /** Stops joining; members keep working until the workshop expires. */
  close(id: string): Promise<Workshop | undefined>;
  /** The workshop, its members and their events go; their access with it. */
  delete(id: string): Promise<boolean>;
  /**
   * Admits a learner if the workshop is open, not full and the name is free, all checked and
   * recorded atomically (two joins racing for the last seat: one gets it). `newLearner` makes the
   * learner's identity and is called only once admission is certain; `replica` is the one issuing it
   * (the member's replica from then on).
   */
  join(code: string, displayName: string, newLearner: () => string, replica?: string): Promise<JoinOutcome>;
  /** The workshop a learner belongs to, if any. */
  membership(learnerId: string): Promise<{ member: WorkshopMember; workshop: Workshop } | undefined>;
  members(workshopId: string): Promise<WorkshopMember[]>;
  setBroadcast(workshopId: string, text: string): Promise<Broadcast | undefined>;
  /** Records the learner's current step; `since` changes only when the step does. */
  setPosition(learnerId: string, trackId: string, stepId: string): Promise<void>;
  positions(workshopId: string): Promise<StepPosition[]>;
  recordEvent(event: Omit<LearnerEvent, 'at'>): Promise<void>;
  events(workshopId: string): Promise<LearnerEvent[]>;
  /**
   * The step's done mark, for members only. Writes (and announces) only a change: the same mark
   * again, or `false` where none was recorded, touches nothing. True when something changed.
   */
  setStepDone(learnerId: string, trackId: string, stepId: string, done: boolean): Promise<boolean>;
  /**
   * The step's latest check verdict, for members only (null forgets it: a reset). A verdict equal to
   * the stored one writes nothing (re-checks of a room of learners are not a write storm); failing
   * since is kept while it stays failed. True when something changed.
   */
  setCheckState(learnerId: string, trackId: string, stepId: string, state: CheckState | null): Promise<boolean>;
  /** Every member's step records, in one query. */
  stepRecords(workshopId: string): Promise<StepRecord[]>;
  /** A member's terminal opened (or closed) on `replica`; true when that changed anything. */
  setTerminal(learnerId: string, replica: string, open: boolean): Promise<boolean>;
  /** Forgets every terminal recorded on `replica` (it starts, or stops: its terminals are gone). */
  clearTerminals(replica: string): Promise<void>;
  /** The open terminals of a workshop's members, in one query. */
  terminals(workshopId: string): Promise<TerminalPresence[]>;
  /** A replica says it is alive and where it is reached (registers it the first time). */
  heartbeat(name: string, url: string): Promise<void>;
  /** Every registered replica with its last heartbeat. */
  replicas(): Promise<ReplicaRecord[]>;
  /** A replica stopping on purpose: no longer reachable, whatever its last heartbeat said. */
  leave(name: string): Promise<void>;
  dispose(): Promise<void>;
}

export function workshopStatus(w: Workshop, now: Date): WorkshopStatus {
  if (w.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (w.closedAt) return 'closed';
  return 'open';
}

/** The refusal pages' words, shared by the HTML page, the API and the tests. */
export const JOIN_REFUSALS: Record<JoinRefusal, string> = {
  'not-found': 'This join link is not valid. Check the link with your instructor.',
  closed: 'This workshop is closed to new learners. Ask your instructor.',
  expired: 'This workshop has ended: its join link expired.',
  full: 'This workshop is full: every seat is taken. Ask your instructor for room.',
  'name-taken': 'Someone in this workshop already uses that name: choose another.',
};

/** The schema, one statement list per version; the SQL is what SQLite and PostgreSQL both run, so both stores use it. */
export const WORKSHOP_MIGRATIONS = [
  `CREATE TABLE workshop (
     id TEXT PRIMARY KEY,
     title TEXT NOT NULL,
     tracks TEXT NOT NULL,
     capacity INTEGER NOT NULL,
     join_code TEXT NOT NULL UNIQUE,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     closed_at TEXT,
     broadcast_id TEXT,
     broadcast_text TEXT,
     broadcast_at TEXT
   );
   CREATE TABLE workshop_member (
     learner_id TEXT PRIMARY KEY,
     workshop_id TEXT NOT NULL REFERENCES workshop (id) ON DELETE CASCADE,
     display_name TEXT NOT NULL,
     joined_at TEXT NOT NULL,
     UNIQUE (workshop_id, display_name)
   );
   CREATE INDEX workshop_member_by_workshop ON workshop_member (workshop_id);
   CREATE TABLE workshop_position (
     learner_id TEXT NOT NULL REFERENCES workshop_member (learner_id) ON DELETE CASCADE,
     track_id TEXT NOT NULL,
     step_id TEXT NOT NULL,
     since TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (learner_id, track_id)
   );
   CREATE TABLE workshop_event (
     learner_id TEXT NOT NULL REFERENCES workshop_member (learner_id) ON DELETE CASCADE,
     kind TEXT NOT NULL,
     track_id TEXT NOT NULL,
     step_id TEXT NOT NULL,
     at TEXT NOT NULL
   );
   CREATE INDEX workshop_event_by_learner ON workshop_event (learner_id);`,
  // What the dashboard used to learn only from the learner's own replica: done marks, check
  // verdicts and open terminals, so every replica's dashboard shows every member.
  `CREATE TABLE workshop_step (
     learner_id TEXT NOT NULL REFERENCES workshop_member (learner_id) ON DELETE CASCADE,
     track_id TEXT NOT NULL,
     step_id TEXT NOT NULL,
     done INTEGER,
     check_state TEXT,
     failing_since TEXT,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (learner_id, track_id, step_id)
   );
   CREATE TABLE workshop_terminal (
     learner_id TEXT NOT NULL REFERENCES workshop_member (learner_id) ON DELETE CASCADE,
     replica TEXT NOT NULL,
     since TEXT NOT NULL,
     PRIMARY KEY (learner_id, replica)
   );
   CREATE INDEX workshop_terminal_by_replica ON workshop_terminal (replica);`,
  // Replicas know each other (name, internal URL, heartbeat) and which one holds each member, so
  // an instructor's action on a learner is forwarded to the replica holding them.
  `ALTER TABLE workshop_member ADD COLUMN replica TEXT;
   CREATE TABLE workshop_replica (
     name TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     seen_at TEXT NOT NULL
   );`,
];
