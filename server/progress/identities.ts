/**
 * Learner identities: a learner is whoever holds the secret the server issued them. The secret is
 * random (256 bits), handed out once in a cookie and stored only as its SHA-256, so neither the
 * learner id (a directory name, a log field) nor a copy of the database lets anyone act as a learner.
 */
import crypto from 'node:crypto';
import type Database from 'better-sqlite3';

export interface IssuedIdentity {
  learnerId: string;
  /** Goes to the learner's browser and nowhere else; the server keeps only its hash. */
  secret: string;
}

/** 32 random bytes in base64url, as `issue` makes them: anything else is not worth a lookup. */
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class LearnerIdentities {
  private readonly insertLearner: Database.Statement;
  private readonly insertSecret: Database.Statement;
  private readonly selectLearner: Database.Statement;
  private readonly countLearners: Database.Statement;
  private readonly selectId: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insertLearner = db.prepare('INSERT INTO learner (id, created_at, last_seen_at) VALUES (?, ?, ?)');
    this.insertSecret = db.prepare('INSERT INTO learner_secret (secret_hash, learner_id, created_at) VALUES (?, ?, ?)');
    this.selectLearner = db.prepare('SELECT learner_id FROM learner_secret WHERE secret_hash = ?');
    this.countLearners = db.prepare('SELECT COUNT(*) AS n FROM learner');
    this.selectId = db.prepare('SELECT 1 FROM learner WHERE id = ?');
  }

  /** A new learner and the secret that proves it. */
  issue(now = new Date()): IssuedIdentity {
    const learnerId = crypto.randomBytes(18).toString('base64url');
    const secret = crypto.randomBytes(32).toString('base64url');
    const at = now.toISOString();
    this.db.transaction(() => {
      this.insertLearner.run(learnerId, at, at);
      this.insertSecret.run(hashSecret(secret), learnerId, at);
    })();
    return { learnerId, secret };
  }

  /** The learner a secret was issued to; undefined for anything else (forged, stale, malformed). */
  learnerFor(secret: string | undefined): string | undefined {
    if (!secret || !SECRET_SHAPE.test(secret)) return undefined;
    // A lookup by the hash of a 256-bit secret: its timing reveals nothing usable about other secrets.
    const row = this.selectLearner.get(hashSecret(secret)) as { learner_id: string } | undefined;
    return row?.learner_id;
  }

  /** Whether this server issued the learner's identity (another replica's learners are not here). */
  exists(learnerId: string): boolean {
    return this.selectId.get(learnerId) !== undefined;
  }

  /** How many learners exist (for tests and the operator's view). */
  count(): number {
    return (this.countLearners.get() as { n: number }).n;
  }
}

function hashSecret(secret: string): Buffer {
  return crypto.createHash('sha256').update(secret).digest();
}
