/**
 * Workshops: what an instructor creates (title, tracks, capacity, expiry, a join code), who joined
 * it under which display name, and what the dashboard needs beside progress (since when each
 * learner is on their step, hints opened, the broadcast message).
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
   * learner's identity and is called only once admission is certain.
   */
  join(code: string, displayName: string, newLearner: () => string): Promise<JoinOutcome>;
  /** The workshop a learner belongs to, if any. */
  membership(learnerId: string): Promise<{ member: WorkshopMember; workshop: Workshop } | undefined>;
  members(workshopId: string): Promise<WorkshopMember[]>;
  setBroadcast(workshopId: string, text: string): Promise<Broadcast | undefined>;
  /** Records the learner's current step; `since` changes only when the step does. */
  setPosition(learnerId: string, trackId: string, stepId: string): Promise<void>;
  positions(workshopId: string): Promise<StepPosition[]>;
  recordEvent(event: Omit<LearnerEvent, 'at'>): Promise<void>;
  events(workshopId: string): Promise<LearnerEvent[]>;
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
];
