/**
 * The workshop store in SQLite (better-sqlite3), in a file of its own beside progress.sqlite so
 * its migrations never interleave with the progress store's. The SQL is kept to what PostgreSQL
 * also runs (TEXT timestamps in ISO form, INSERT … ON CONFLICT), so a PostgreSQL store can take
 * the same statements with $n placeholders.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import {
  workshopStatus,
  type Broadcast,
  type CheckState,
  type JoinOutcome,
  type LearnerEvent,
  type NewWorkshop,
  type ReplicaRecord,
  type StepPosition,
  type StepRecord,
  type StepRow,
  toStepRecord,
  type TerminalPresence,
  type Workshop,
  type WorkshopMember,
  type WorkshopStore,
  WORKSHOP_MIGRATIONS,
} from './store.js';
import { newJoinCode, newWorkshopId } from './names.js';


interface WorkshopRow {
  id: string;
  title: string;
  tracks: string;
  capacity: number;
  join_code: string;
  created_at: string;
  expires_at: string;
  closed_at: string | null;
  broadcast_id: string | null;
  broadcast_text: string | null;
  broadcast_at: string | null;
}

interface MemberRow {
  learner_id: string;
  workshop_id: string;
  display_name: string;
  joined_at: string;
  replica: string | null;
}

const toWorkshop = (r: WorkshopRow): Workshop => ({
  id: r.id,
  title: r.title,
  tracks: JSON.parse(r.tracks) as string[],
  capacity: r.capacity,
  joinCode: r.join_code,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
  closedAt: r.closed_at ? new Date(r.closed_at) : null,
  broadcast: r.broadcast_id && r.broadcast_text !== null && r.broadcast_at ? { id: r.broadcast_id, text: r.broadcast_text, at: new Date(r.broadcast_at) } : null,
});

const toMember = (r: MemberRow): WorkshopMember => ({ workshopId: r.workshop_id, learnerId: r.learner_id, displayName: r.display_name, joinedAt: new Date(r.joined_at), replica: r.replica });

export interface SqliteWorkshopStoreOptions {
  /** The file, or ':memory:'. */
  file: string;
  clock?: () => Date;
}

export class SqliteWorkshopStore implements WorkshopStore {
  private readonly db: Database.Database;
  private readonly now: () => Date;

  constructor(options: SqliteWorkshopStoreOptions) {
    if (options.file !== ':memory:') fs.mkdirSync(path.dirname(options.file), { recursive: true });
    this.db = new Database(options.file);
    if (options.file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 2000');
    this.db.pragma('foreign_keys = ON');
    this.now = options.clock ?? (() => new Date());
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < WORKSHOP_MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(WORKSHOP_MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  static inDataDir(dataDir: string, clock?: () => Date): SqliteWorkshopStore {
    return new SqliteWorkshopStore({ file: path.join(dataDir, 'workshops.sqlite'), ...(clock ? { clock } : {}) });
  }

  async create(input: NewWorkshop): Promise<Workshop> {
    const id = newWorkshopId();
    this.db
      .prepare('INSERT INTO workshop (id, title, tracks, capacity, join_code, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, input.title, JSON.stringify(input.tracks), input.capacity, newJoinCode(), this.now().toISOString(), input.expiresAt.toISOString());
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Workshop | undefined> {
    return this.getSync(id);
  }

  private getSync(id: string): Workshop | undefined {
    const row = this.db.prepare('SELECT * FROM workshop WHERE id = ?').get(id) as WorkshopRow | undefined;
    return row ? toWorkshop(row) : undefined;
  }

  async byJoinCode(code: string): Promise<Workshop | undefined> {
    const row = this.db.prepare('SELECT * FROM workshop WHERE join_code = ?').get(code) as WorkshopRow | undefined;
    return row ? toWorkshop(row) : undefined;
  }

  async list(): Promise<Workshop[]> {
    return (this.db.prepare('SELECT * FROM workshop ORDER BY created_at DESC, id').all() as WorkshopRow[]).map(toWorkshop);
  }

  async close(id: string): Promise<Workshop | undefined> {
    this.db.prepare('UPDATE workshop SET closed_at = ? WHERE id = ? AND closed_at IS NULL').run(this.now().toISOString(), id);
    return this.getSync(id);
  }

  async delete(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM workshop WHERE id = ?').run(id).changes > 0;
  }

  async join(code: string, displayName: string, newLearner: () => string, replica?: string): Promise<JoinOutcome> {
    // IMMEDIATE: the count and the insert see no other writer between them.
    const tx = this.db.transaction((): JoinOutcome => {
      const row = this.db.prepare('SELECT * FROM workshop WHERE join_code = ?').get(code) as WorkshopRow | undefined;
      if (!row) return { ok: false, reason: 'not-found' };
      const workshop = toWorkshop(row);
      const status = workshopStatus(workshop, this.now());
      if (status !== 'open') return { ok: false, reason: status, workshop };
      const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM workshop_member WHERE workshop_id = ?').get(workshop.id) as { n: number };
      if (n >= workshop.capacity) return { ok: false, reason: 'full', workshop };
      const taken = this.db.prepare('SELECT 1 FROM workshop_member WHERE workshop_id = ? AND lower(display_name) = lower(?)').get(workshop.id, displayName);
      if (taken) return { ok: false, reason: 'name-taken', workshop };
      const learnerId = newLearner();
      const joinedAt = this.now();
      this.db
        .prepare('INSERT INTO workshop_member (learner_id, workshop_id, display_name, joined_at, replica) VALUES (?, ?, ?, ?, ?)')
        .run(learnerId, workshop.id, displayName, joinedAt.toISOString(), replica ?? null);
      return { ok: true, workshop, member: { workshopId: workshop.id, learnerId, displayName, joinedAt, replica: replica ?? null } };
    });
    return tx.immediate();
  }

  async membership(learnerId: string): Promise<{ member: WorkshopMember; workshop: Workshop } | undefined> {
    const row = this.db.prepare('SELECT * FROM workshop_member WHERE learner_id = ?').get(learnerId) as MemberRow | undefined;
    if (!row) return undefined;
    const workshop = this.getSync(row.workshop_id);
    return workshop ? { member: toMember(row), workshop } : undefined;
  }

  async members(workshopId: string): Promise<WorkshopMember[]> {
    return (this.db.prepare('SELECT * FROM workshop_member WHERE workshop_id = ? ORDER BY joined_at, display_name').all(workshopId) as MemberRow[]).map(toMember);
  }

  async setBroadcast(workshopId: string, text: string): Promise<Broadcast | undefined> {
    const broadcast = { id: crypto.randomBytes(8).toString('hex'), text, at: this.now() };
    const changed = this.db
      .prepare('UPDATE workshop SET broadcast_id = ?, broadcast_text = ?, broadcast_at = ? WHERE id = ?')
      .run(broadcast.id, text, broadcast.at.toISOString(), workshopId).changes;
    return changed ? broadcast : undefined;
  }

  async setPosition(learnerId: string, trackId: string, stepId: string): Promise<void> {
    const at = this.now().toISOString();
    // Members only (the foreign key); a self-paced learner has no row to keep.
    this.db
      .prepare(`INSERT INTO workshop_position (learner_id, track_id, step_id, since, updated_at)
                SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM workshop_member WHERE learner_id = ?)
                ON CONFLICT (learner_id, track_id) DO UPDATE SET
                  since = CASE WHEN workshop_position.step_id = excluded.step_id THEN workshop_position.since ELSE excluded.since END,
                  step_id = excluded.step_id, updated_at = excluded.updated_at`)
      .run(learnerId, trackId, stepId, at, at, learnerId);
  }

  async positions(workshopId: string): Promise<StepPosition[]> {
    const rows = this.db
      .prepare(`SELECT p.learner_id, p.track_id, p.step_id, p.since FROM workshop_position p
                JOIN workshop_member m ON m.learner_id = p.learner_id WHERE m.workshop_id = ? ORDER BY p.updated_at`)
      .all(workshopId) as { learner_id: string; track_id: string; step_id: string; since: string }[];
    return rows.map((r) => ({ learnerId: r.learner_id, trackId: r.track_id, stepId: r.step_id, since: new Date(r.since) }));
  }

  async recordEvent(event: Omit<LearnerEvent, 'at'>): Promise<void> {
    this.db
      .prepare(`INSERT INTO workshop_event (learner_id, kind, track_id, step_id, at)
                SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM workshop_member WHERE learner_id = ?)`)
      .run(event.learnerId, event.kind, event.trackId, event.stepId, this.now().toISOString(), event.learnerId);
  }

  async events(workshopId: string): Promise<LearnerEvent[]> {
    const rows = this.db
      .prepare(`SELECT e.learner_id, e.kind, e.track_id, e.step_id, e.at FROM workshop_event e
                JOIN workshop_member m ON m.learner_id = e.learner_id WHERE m.workshop_id = ? ORDER BY e.at`)
      .all(workshopId) as { learner_id: string; kind: 'hint-opened'; track_id: string; step_id: string; at: string }[];
    return rows.map((r) => ({ learnerId: r.learner_id, kind: r.kind, trackId: r.track_id, stepId: r.step_id, at: new Date(r.at) }));
  }

  async setStepDone(learnerId: string, trackId: string, stepId: string, done: boolean): Promise<boolean> {
    const at = this.now().toISOString();
    const args = { l: learnerId, t: trackId, s: stepId, at };
    // Not done where nothing was recorded is no news: the dashboard shows such a step as not done.
    const statement = done
      ? `INSERT INTO workshop_step (learner_id, track_id, step_id, done, updated_at)
         SELECT @l, @t, @s, 1, @at WHERE EXISTS (SELECT 1 FROM workshop_member WHERE learner_id = @l)
         ON CONFLICT (learner_id, track_id, step_id) DO UPDATE SET done = 1, updated_at = excluded.updated_at
         WHERE workshop_step.done IS DISTINCT FROM 1`
      : 'UPDATE workshop_step SET done = 0, updated_at = @at WHERE learner_id = @l AND track_id = @t AND step_id = @s AND done = 1';
    return this.db.prepare(statement).run(args).changes > 0;
  }

  async setCheckState(learnerId: string, trackId: string, stepId: string, state: CheckState | null): Promise<boolean> {
    const at = this.now().toISOString();
    const key = { l: learnerId, t: trackId, s: stepId, at };
    if (state === null) {
      return (
        this.db
          .prepare('UPDATE workshop_step SET check_state = NULL, failing_since = NULL, updated_at = @at WHERE learner_id = @l AND track_id = @t AND step_id = @s AND check_state IS NOT NULL')
          .run(key).changes > 0
      );
    }
    // Only a different verdict is written, so a failing one keeps the failing_since it was written with.
    return (
      this.db
        .prepare(`INSERT INTO workshop_step (learner_id, track_id, step_id, check_state, failing_since, updated_at)
                  SELECT @l, @t, @s, @state, @failingSince, @at WHERE EXISTS (SELECT 1 FROM workshop_member WHERE learner_id = @l)
                  ON CONFLICT (learner_id, track_id, step_id) DO UPDATE SET
                    check_state = excluded.check_state, failing_since = excluded.failing_since, updated_at = excluded.updated_at
                  WHERE workshop_step.check_state IS DISTINCT FROM excluded.check_state`)
        .run({ ...key, state, failingSince: state === 'failed' ? at : null }).changes > 0
    );
  }

  async stepRecords(workshopId: string): Promise<StepRecord[]> {
    const rows = this.db
      .prepare(`SELECT s.learner_id, s.track_id, s.step_id, s.done, s.check_state, s.failing_since, s.updated_at FROM workshop_step s
                JOIN workshop_member m ON m.learner_id = s.learner_id WHERE m.workshop_id = ?`)
      .all(workshopId) as StepRow[];
    return rows.map(toStepRecord);
  }

  async setTerminal(learnerId: string, replica: string, open: boolean): Promise<boolean> {
    const statement = open
      ? `INSERT INTO workshop_terminal (learner_id, replica, since)
         SELECT @l, @r, @at WHERE EXISTS (SELECT 1 FROM workshop_member WHERE learner_id = @l)
         ON CONFLICT (learner_id, replica) DO NOTHING`
      : 'DELETE FROM workshop_terminal WHERE learner_id = @l AND replica = @r';
    return this.db.prepare(statement).run({ l: learnerId, r: replica, ...(open ? { at: this.now().toISOString() } : {}) }).changes > 0;
  }

  async clearTerminals(replica: string): Promise<void> {
    this.db.prepare('DELETE FROM workshop_terminal WHERE replica = ?').run(replica);
  }

  async terminals(workshopId: string): Promise<TerminalPresence[]> {
    const rows = this.db
      .prepare(`SELECT t.learner_id, t.replica, t.since FROM workshop_terminal t
                JOIN workshop_member m ON m.learner_id = t.learner_id WHERE m.workshop_id = ? ORDER BY t.since`)
      .all(workshopId) as { learner_id: string; replica: string; since: string }[];
    return rows.map((r) => ({ learnerId: r.learner_id, replica: r.replica, since: new Date(r.since) }));
  }

  async heartbeat(name: string, url: string): Promise<void> {
    this.db
      .prepare('INSERT INTO workshop_replica (name, url, seen_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET url = excluded.url, seen_at = excluded.seen_at')
      .run(name, url, this.now().toISOString());
  }

  async replicas(): Promise<ReplicaRecord[]> {
    const rows = this.db.prepare('SELECT name, url, seen_at FROM workshop_replica ORDER BY name').all() as { name: string; url: string; seen_at: string }[];
    const at = this.now().getTime();
    return rows.map((r) => ({ name: r.name, url: r.url, silentMs: at - Date.parse(r.seen_at) }));
  }

  async leave(name: string): Promise<void> {
    this.db.prepare('DELETE FROM workshop_replica WHERE name = ?').run(name);
  }

  async dispose(): Promise<void> {
    this.db.close();
  }
}
