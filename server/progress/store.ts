/**
 * Learners' progress in SQLite, so a refresh or a server restart loses nothing: which step of
 * each track a learner is on and which steps are done; and, beside it, who each learner is
 * (identities.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LearnerIdentities } from './identities.js';

export interface TrackProgress {
  trackId: string;
  currentStep: string | null;
  done: string[];
}

const migrations = [
  `CREATE TABLE learner (
     id TEXT PRIMARY KEY,
     created_at TEXT NOT NULL,
     last_seen_at TEXT NOT NULL
   );
   CREATE TABLE track_position (
     learner_id TEXT NOT NULL,
     track_id TEXT NOT NULL,
     current_step TEXT,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (learner_id, track_id)
   );
   CREATE TABLE step_done (
     learner_id TEXT NOT NULL,
     track_id TEXT NOT NULL,
     step_id TEXT NOT NULL,
     done_at TEXT NOT NULL,
     PRIMARY KEY (learner_id, track_id, step_id)
   );`,
  `CREATE TABLE check_results (
     learner_id TEXT NOT NULL,
     track_id TEXT NOT NULL,
     step_id TEXT NOT NULL,
     results TEXT NOT NULL,
     evaluated_at TEXT NOT NULL,
     PRIMARY KEY (learner_id, track_id, step_id)
   );`,
  // Learners who existed before identities were issued have no secret: they start afresh.
  `CREATE TABLE learner_secret (
     secret_hash BLOB PRIMARY KEY,
     learner_id TEXT NOT NULL REFERENCES learner (id),
     created_at TEXT NOT NULL
   ) WITHOUT ROWID;`,
];

export interface StoredCheckResult {
  title: string;
  passed: boolean;
  found: string;
  hint?: string;
}

export class ProgressStore {
  private readonly db: Database.Database;
  /** Who a browser is: issued secrets, kept beside the progress they unlock. */
  readonly identities: LearnerIdentities;

  constructor(dataDir: string) {
    fs.mkdirSync(dataDir, { recursive: true });
    this.db = new Database(path.join(dataDir, 'progress.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 2000');
    this.migrate();
    this.identities = new LearnerIdentities(this.db);
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < migrations.length; v++) {
      this.db.transaction(() => {
        this.db.exec(migrations[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** Records that a learner was seen (learners are created only by `identities.issue`). */
  touchLearner(learnerId: string, now = new Date()): void {
    this.db.prepare('UPDATE learner SET last_seen_at = ? WHERE id = ?').run(now.toISOString(), learnerId);
  }

  get(learnerId: string, trackId: string): TrackProgress {
    const position = this.db
      .prepare('SELECT current_step FROM track_position WHERE learner_id = ? AND track_id = ?')
      .get(learnerId, trackId) as { current_step: string | null } | undefined;
    const done = this.db
      .prepare('SELECT step_id FROM step_done WHERE learner_id = ? AND track_id = ? ORDER BY done_at, step_id')
      .all(learnerId, trackId) as { step_id: string }[];
    return { trackId, currentStep: position?.current_step ?? null, done: done.map((d) => d.step_id) };
  }

  /** Done-step counts per track, for the track list. */
  doneCounts(learnerId: string): Record<string, number> {
    const rows = this.db
      .prepare('SELECT track_id, COUNT(*) AS n FROM step_done WHERE learner_id = ? GROUP BY track_id')
      .all(learnerId) as { track_id: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.track_id, r.n]));
  }

  setCurrentStep(learnerId: string, trackId: string, stepId: string, now = new Date()): void {
    this.db
      .prepare(`INSERT INTO track_position (learner_id, track_id, current_step, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(learner_id, track_id) DO UPDATE SET current_step = excluded.current_step, updated_at = excluded.updated_at`)
      .run(learnerId, trackId, stepId, now.toISOString());
  }

  setStepDone(learnerId: string, trackId: string, stepId: string, done: boolean, now = new Date()): void {
    if (done) {
      this.db
        .prepare(`INSERT INTO step_done (learner_id, track_id, step_id, done_at) VALUES (?, ?, ?, ?)
                  ON CONFLICT DO NOTHING`)
        .run(learnerId, trackId, stepId, now.toISOString());
    } else {
      this.db.prepare('DELETE FROM step_done WHERE learner_id = ? AND track_id = ? AND step_id = ?').run(learnerId, trackId, stepId);
    }
  }

  isStepDone(learnerId: string, trackId: string, stepId: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM step_done WHERE learner_id = ? AND track_id = ? AND step_id = ?').get(learnerId, trackId, stepId);
  }

  /** The latest verdict of each of a step's checks, so a reload shows them before re-checking. */
  saveCheckResults(learnerId: string, trackId: string, stepId: string, results: StoredCheckResult[], now = new Date()): void {
    this.db
      .prepare(`INSERT INTO check_results (learner_id, track_id, step_id, results, evaluated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(learner_id, track_id, step_id) DO UPDATE SET results = excluded.results, evaluated_at = excluded.evaluated_at`)
      .run(learnerId, trackId, stepId, JSON.stringify(results), now.toISOString());
  }

  checkResults(learnerId: string, trackId: string, stepId: string): StoredCheckResult[] | undefined {
    const row = this.db
      .prepare('SELECT results FROM check_results WHERE learner_id = ? AND track_id = ? AND step_id = ?')
      .get(learnerId, trackId, stepId) as { results: string } | undefined;
    return row ? (JSON.parse(row.results) as StoredCheckResult[]) : undefined;
  }

  /**
   * A step reset or jump replaced the learner's work from `stepIds` on: they are no longer done and
   * their saved verdicts go; the track's position becomes `currentStep`. One transaction.
   */
  resetSteps(learnerId: string, trackId: string, stepIds: string[], currentStep: string, now = new Date()): void {
    this.db.transaction(() => {
      for (const stepId of stepIds) {
        this.db.prepare('DELETE FROM step_done WHERE learner_id = ? AND track_id = ? AND step_id = ?').run(learnerId, trackId, stepId);
        this.db.prepare('DELETE FROM check_results WHERE learner_id = ? AND track_id = ? AND step_id = ?').run(learnerId, trackId, stepId);
      }
      this.setCurrentStep(learnerId, trackId, currentStep, now);
    })();
  }

  close(): void {
    this.db.close();
  }
}
