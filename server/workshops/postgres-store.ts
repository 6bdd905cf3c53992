/**
 * The workshop store in PostgreSQL, for several playground replicas sharing workshops (deploy/).
 * Same tables and statements as sqlite-store.ts ($n placeholders; TEXT timestamps in ISO form),
 * so both stores pass the same tests. A join locks its workshop's row (SELECT … FOR UPDATE), so two
 * replicas racing for the last seat cannot both win. Every change is announced on the
 * `playground_workshop` channel (NOTIFY, payload the workshop id) for other replicas' dashboards;
 * a step record or a terminal in the statement that writes it, and only when it changed.
 */
import crypto from 'node:crypto';
import pg from 'pg';
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
  type TerminalPresence,
  toStepRecord,
  type Workshop,
  type WorkshopMember,
  type WorkshopStore,
  WORKSHOP_MIGRATIONS,
} from './store.js';
import { newJoinCode, newWorkshopId } from './names.js';

export const NOTIFY_CHANNEL = 'playground_workshop';


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

/** The database's clock as the ISO text the tables keep (`seen_at` is TEXT in both stores' schema). */
const DATABASE_NOW = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export interface PostgresWorkshopStoreOptions {
  /** postgres://… (PLAYGROUND_DATABASE_URL). */
  url: string;
  clock?: () => Date;
  /** Connections kept open (default 5): the store's queries are short. */
  maxConnections?: number;
}

export class PostgresWorkshopStore implements WorkshopStore {
  private readonly now: () => Date;
  private listener: pg.Client | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly injectedClock: (() => Date) | undefined,
  ) {
    this.now = injectedClock ?? (() => new Date());
  }

  /** Connects and brings the schema up to date (one replica at a time, under an advisory lock). */
  static async connect(options: PostgresWorkshopStoreOptions): Promise<PostgresWorkshopStore> {
    const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 5 });
    // A dropped idle connection must not crash the server; the pool makes a new one.
    pool.on('error', () => {});
    const store = new PostgresWorkshopStore(pool, options.url, options.clock);
    try {
      await store.tx(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock(7411013)');
        await c.query('CREATE TABLE IF NOT EXISTS playground_schema (name TEXT PRIMARY KEY, version INTEGER NOT NULL)');
        const row = (await c.query<{ version: number }>("SELECT version FROM playground_schema WHERE name = 'workshops'")).rows[0];
        for (let v = row?.version ?? 0; v < WORKSHOP_MIGRATIONS.length; v++) await c.query(WORKSHOP_MIGRATIONS[v]!);
        await c.query("INSERT INTO playground_schema (name, version) VALUES ('workshops', $1) ON CONFLICT (name) DO UPDATE SET version = excluded.version", [WORKSHOP_MIGRATIONS.length]);
      });
    } catch (e) {
      await pool.end();
      throw e;
    }
    return store;
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  private async notify(q: pg.Pool | pg.PoolClient, workshopId: string): Promise<void> {
    await q.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, workshopId]);
  }

  /**
   * Calls `onChange(workshopId)` whenever any replica changes a workshop (joins, positions, hints,
   * broadcasts, closing), on a connection of its own held for LISTEN.
   */
  async subscribe(onChange: (workshopId: string) => void): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', () => {});
    await client.connect();
    client.on('notification', (n) => {
      if (n.channel === NOTIFY_CHANNEL && n.payload) onChange(n.payload);
    });
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    this.listener = client;
  }

  async create(input: NewWorkshop): Promise<Workshop> {
    const id = newWorkshopId();
    await this.pool.query('INSERT INTO workshop (id, title, tracks, capacity, join_code, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      id,
      input.title,
      JSON.stringify(input.tracks),
      input.capacity,
      newJoinCode(),
      this.now().toISOString(),
      input.expiresAt.toISOString(),
    ]);
    await this.notify(this.pool, id);
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Workshop | undefined> {
    const row = (await this.pool.query<WorkshopRow>('SELECT * FROM workshop WHERE id = $1', [id])).rows[0];
    return row ? toWorkshop(row) : undefined;
  }

  async byJoinCode(code: string): Promise<Workshop | undefined> {
    const row = (await this.pool.query<WorkshopRow>('SELECT * FROM workshop WHERE join_code = $1', [code])).rows[0];
    return row ? toWorkshop(row) : undefined;
  }

  async list(): Promise<Workshop[]> {
    return (await this.pool.query<WorkshopRow>('SELECT * FROM workshop ORDER BY created_at DESC, id COLLATE "C"')).rows.map(toWorkshop);
  }

  async close(id: string): Promise<Workshop | undefined> {
    const changed = (await this.pool.query('UPDATE workshop SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL', [this.now().toISOString(), id])).rowCount;
    if (changed) await this.notify(this.pool, id);
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    const deleted = ((await this.pool.query('DELETE FROM workshop WHERE id = $1', [id])).rowCount ?? 0) > 0;
    if (deleted) await this.notify(this.pool, id);
    return deleted;
  }

  async join(code: string, displayName: string, newLearner: () => string, replica?: string): Promise<JoinOutcome> {
    return this.tx(async (c): Promise<JoinOutcome> => {
      // The workshop's row lock serializes joins to it across replicas.
      const row = (await c.query<WorkshopRow>('SELECT * FROM workshop WHERE join_code = $1 FOR UPDATE', [code])).rows[0];
      if (!row) return { ok: false, reason: 'not-found' };
      const workshop = toWorkshop(row);
      const status = workshopStatus(workshop, this.now());
      if (status !== 'open') return { ok: false, reason: status, workshop };
      const { n } = (await c.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM workshop_member WHERE workshop_id = $1', [workshop.id])).rows[0]!;
      if (n >= workshop.capacity) return { ok: false, reason: 'full', workshop };
      const taken = (await c.query('SELECT 1 FROM workshop_member WHERE workshop_id = $1 AND lower(display_name) = lower($2)', [workshop.id, displayName])).rowCount;
      if (taken) return { ok: false, reason: 'name-taken', workshop };
      const learnerId = newLearner();
      const joinedAt = this.now();
      await c.query('INSERT INTO workshop_member (learner_id, workshop_id, display_name, joined_at, replica) VALUES ($1, $2, $3, $4, $5)', [
        learnerId,
        workshop.id,
        displayName,
        joinedAt.toISOString(),
        replica ?? null,
      ]);
      await this.notify(c, workshop.id);
      return { ok: true, workshop, member: { workshopId: workshop.id, learnerId, displayName, joinedAt, replica: replica ?? null } };
    });
  }

  async membership(learnerId: string): Promise<{ member: WorkshopMember; workshop: Workshop } | undefined> {
    const row = (await this.pool.query<MemberRow>('SELECT * FROM workshop_member WHERE learner_id = $1', [learnerId])).rows[0];
    if (!row) return undefined;
    const workshop = await this.get(row.workshop_id);
    return workshop ? { member: toMember(row), workshop } : undefined;
  }

  async members(workshopId: string): Promise<WorkshopMember[]> {
    return (await this.pool.query<MemberRow>('SELECT * FROM workshop_member WHERE workshop_id = $1 ORDER BY joined_at, display_name COLLATE "C"', [workshopId])).rows.map(toMember);
  }

  async setBroadcast(workshopId: string, text: string): Promise<Broadcast | undefined> {
    const broadcast = { id: crypto.randomBytes(8).toString('hex'), text, at: this.now() };
    const changed = (await this.pool.query('UPDATE workshop SET broadcast_id = $1, broadcast_text = $2, broadcast_at = $3 WHERE id = $4', [broadcast.id, text, broadcast.at.toISOString(), workshopId])).rowCount;
    if (!changed) return undefined;
    await this.notify(this.pool, workshopId);
    return broadcast;
  }

  /** The learner's workshop, for the notification; undefined for a learner in none. */
  private async workshopOf(learnerId: string): Promise<string | undefined> {
    return (await this.pool.query<{ workshop_id: string }>('SELECT workshop_id FROM workshop_member WHERE learner_id = $1', [learnerId])).rows[0]?.workshop_id;
  }

  async setPosition(learnerId: string, trackId: string, stepId: string): Promise<void> {
    const at = this.now().toISOString();
    // Members only (the foreign key); a self-paced learner has no row to keep.
    const changed = (
      await this.pool.query(
        `INSERT INTO workshop_position (learner_id, track_id, step_id, since, updated_at)
         SELECT $1::text, $2::text, $3::text, $4::text, $4::text WHERE EXISTS (SELECT 1 FROM workshop_member WHERE learner_id = $1)
         ON CONFLICT (learner_id, track_id) DO UPDATE SET
           since = CASE WHEN workshop_position.step_id = excluded.step_id THEN workshop_position.since ELSE excluded.since END,
           step_id = excluded.step_id, updated_at = excluded.updated_at`,
        [learnerId, trackId, stepId, at],
      )
    ).rowCount;
    const workshopId = changed ? await this.workshopOf(learnerId) : undefined;
    if (workshopId) await this.notify(this.pool, workshopId);
  }

  async positions(workshopId: string): Promise<StepPosition[]> {
    const rows = (
      await this.pool.query<{ learner_id: string; track_id: string; step_id: string; since: string }>(
        `SELECT p.learner_id, p.track_id, p.step_id, p.since FROM workshop_position p
         JOIN workshop_member m ON m.learner_id = p.learner_id WHERE m.workshop_id = $1 ORDER BY p.updated_at`,
        [workshopId],
      )
    ).rows;
    return rows.map((r) => ({ learnerId: r.learner_id, trackId: r.track_id, stepId: r.step_id, since: new Date(r.since) }));
  }

  async recordEvent(event: Omit<LearnerEvent, 'at'>): Promise<void> {
    const changed = (
      await this.pool.query(
        `INSERT INTO workshop_event (learner_id, kind, track_id, step_id, at)
         SELECT $1::text, $2::text, $3::text, $4::text, $5::text WHERE EXISTS (SELECT 1 FROM workshop_member WHERE learner_id = $1)`,
        [event.learnerId, event.kind, event.trackId, event.stepId, this.now().toISOString()],
      )
    ).rowCount;
    const workshopId = changed ? await this.workshopOf(event.learnerId) : undefined;
    if (workshopId) await this.notify(this.pool, workshopId);
  }

  async events(workshopId: string): Promise<LearnerEvent[]> {
    const rows = (
      await this.pool.query<{ learner_id: string; kind: 'hint-opened'; track_id: string; step_id: string; at: string }>(
        `SELECT e.learner_id, e.kind, e.track_id, e.step_id, e.at FROM workshop_event e
         JOIN workshop_member m ON m.learner_id = e.learner_id WHERE m.workshop_id = $1 ORDER BY e.at`,
        [workshopId],
      )
    ).rows;
    return rows.map((r) => ({ learnerId: r.learner_id, kind: r.kind, trackId: r.track_id, stepId: r.step_id, at: new Date(r.at) }));
  }

  /**
   * Runs a write of one member's row that RETURNs the learner when it changed something, and
   * announces the change in the same statement (one round trip; nothing changed, nothing sent).
   */
  private async writeAndNotify(write: string, args: unknown[]): Promise<boolean> {
    const n = args.length + 1;
    const sql = `WITH changed AS (${write} RETURNING learner_id)
                 SELECT pg_notify($${n}, m.workshop_id) FROM changed JOIN workshop_member m ON m.learner_id = changed.learner_id`;
    return ((await this.pool.query(sql, [...args, NOTIFY_CHANNEL])).rowCount ?? 0) > 0;
  }

  async setStepDone(learnerId: string, trackId: string, stepId: string, done: boolean): Promise<boolean> {
    const at = this.now().toISOString();
    // Not done where nothing was recorded is no news: the dashboard shows such a step as not done.
    return done
      ? this.writeAndNotify(
          `INSERT INTO workshop_step (learner_id, track_id, step_id, done, updated_at)
           SELECT $1::text, $2::text, $3::text, 1, $4::text WHERE EXISTS (SELECT 1 FROM workshop_member WHERE learner_id = $1)
           ON CONFLICT (learner_id, track_id, step_id) DO UPDATE SET done = 1, updated_at = excluded.updated_at
           WHERE workshop_step.done IS DISTINCT FROM 1`,
          [learnerId, trackId, stepId, at],
        )
      : this.writeAndNotify('UPDATE workshop_step SET done = 0, updated_at = $4 WHERE learner_id = $1 AND track_id = $2 AND step_id = $3 AND done = 1', [learnerId, trackId, stepId, at]);
  }

  async setCheckState(learnerId: string, trackId: string, stepId: string, state: CheckState | null): Promise<boolean> {
    const at = this.now().toISOString();
    if (state === null) {
      return this.writeAndNotify(
        'UPDATE workshop_step SET check_state = NULL, failing_since = NULL, updated_at = $4 WHERE learner_id = $1 AND track_id = $2 AND step_id = $3 AND check_state IS NOT NULL',
        [learnerId, trackId, stepId, at],
      );
    }
    // Only a different verdict is written, so a failing one keeps the failing_since it was written with.
    return this.writeAndNotify(
      `INSERT INTO workshop_step (learner_id, track_id, step_id, check_state, failing_since, updated_at)
       SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text WHERE EXISTS (SELECT 1 FROM workshop_member WHERE learner_id = $1)
       ON CONFLICT (learner_id, track_id, step_id) DO UPDATE SET
         check_state = excluded.check_state, failing_since = excluded.failing_since, updated_at = excluded.updated_at
       WHERE workshop_step.check_state IS DISTINCT FROM excluded.check_state`,
      [learnerId, trackId, stepId, state, state === 'failed' ? at : null, at],
    );
  }

  async stepRecords(workshopId: string): Promise<StepRecord[]> {
    const rows = (
      await this.pool.query<StepRow>(
        `SELECT s.learner_id, s.track_id, s.step_id, s.done, s.check_state, s.failing_since, s.updated_at FROM workshop_step s
         JOIN workshop_member m ON m.learner_id = s.learner_id WHERE m.workshop_id = $1`,
        [workshopId],
      )
    ).rows;
    return rows.map(toStepRecord);
  }

  async setTerminal(learnerId: string, replica: string, open: boolean): Promise<boolean> {
    return open
      ? this.writeAndNotify(
          `INSERT INTO workshop_terminal (learner_id, replica, since)
           SELECT $1::text, $2::text, $3::text WHERE EXISTS (SELECT 1 FROM workshop_member WHERE learner_id = $1)
           ON CONFLICT (learner_id, replica) DO NOTHING`,
          [learnerId, replica, this.now().toISOString()],
        )
      : this.writeAndNotify('DELETE FROM workshop_terminal WHERE learner_id = $1 AND replica = $2', [learnerId, replica]);
  }

  async clearTerminals(replica: string): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM workshop_terminal WHERE replica = $1 RETURNING learner_id)
       SELECT pg_notify($2, w.workshop_id) FROM (SELECT DISTINCT m.workshop_id FROM gone JOIN workshop_member m ON m.learner_id = gone.learner_id) w`,
      [replica, NOTIFY_CHANNEL],
    );
  }

  async terminals(workshopId: string): Promise<TerminalPresence[]> {
    const rows = (
      await this.pool.query<{ learner_id: string; replica: string; since: string }>(
        `SELECT t.learner_id, t.replica, t.since FROM workshop_terminal t
         JOIN workshop_member m ON m.learner_id = t.learner_id WHERE m.workshop_id = $1 ORDER BY t.since`,
        [workshopId],
      )
    ).rows;
    return rows.map((r) => ({ learnerId: r.learner_id, replica: r.replica, since: new Date(r.since) }));
  }

  // Heartbeats are written and judged by the database's clock (unless a test injects one): every
  // replica shares it, while the pods' own clocks may disagree by more than the timeout.
  async heartbeat(name: string, url: string): Promise<void> {
    await this.pool.query(`INSERT INTO workshop_replica (name, url, seen_at) VALUES ($1, $2, COALESCE($3::text, ${DATABASE_NOW})) ON CONFLICT (name) DO UPDATE SET url = excluded.url, seen_at = excluded.seen_at`, [
      name,
      url,
      this.injectedClock?.().toISOString() ?? null,
    ]);
  }

  async replicas(): Promise<ReplicaRecord[]> {
    const rows = (
      await this.pool.query<{ name: string; url: string; seen_at: string; at: string }>(`SELECT name, url, seen_at, COALESCE($1::text, ${DATABASE_NOW}) AS at FROM workshop_replica ORDER BY name COLLATE "C"`, [
        this.injectedClock?.().toISOString() ?? null,
      ])
    ).rows;
    return rows.map((r) => ({ name: r.name, url: r.url, silentMs: Date.parse(r.at) - Date.parse(r.seen_at) }));
  }

  async leave(name: string): Promise<void> {
    await this.pool.query('DELETE FROM workshop_replica WHERE name = $1', [name]);
  }

  async dispose(): Promise<void> {
    await this.listener?.end().catch(() => {});
    await this.pool.end();
  }
}
