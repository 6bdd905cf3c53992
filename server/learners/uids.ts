/**
 * A uid (and gid of the same number) of their own for each learner, when the server runs as root:
 * the kernel then keeps learners apart (files, signals, ptrace, process limits). The allocation is
 * persisted under the data dir so a learner keeps their uid (and owns their home) across restarts.
 *
 * Several playgrounds may run on one machine (a workshop's second process, parallel test runs), each
 * with its own data dir: two learners of different servers must never share a uid, or they would
 * share process limits and be able to signal each other. So every uid is also claimed machine-wide:
 * a file named after it in a claims directory, created with O_EXCL and naming the data dir that holds
 * it. A claim whose data dir no longer exists is stale and may be taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

export const DEFAULT_UID_BASE = 100_000;
/** Machine-wide uid claims (root-only, like the uids themselves). */
export const DEFAULT_UID_CLAIMS_DIR = '/var/lib/istio-playground/uid-claims';
/** Far below 2^31 and clear of the overflow uid; a workshop needs a few hundred. */
const RANGE = 1_000_000;

interface UidFile {
  version: 1;
  uids: Record<string, number>;
}

export class LearnerUids {
  private readonly file: string;
  private readonly uids = new Map<string, number>();
  private readonly taken = new Set<number>();

  private readonly owner: string;

  constructor(
    dataDir: string,
    private readonly base = DEFAULT_UID_BASE,
    private readonly claimsDir = process.env.PLAYGROUND_UID_CLAIMS_DIR || DEFAULT_UID_CLAIMS_DIR,
  ) {
    this.file = path.join(dataDir, 'learners', 'uids.json');
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.owner = fs.realpathSync(path.dirname(this.file));
    fs.mkdirSync(this.claimsDir, { recursive: true, mode: 0o700 });
    let saved: UidFile | undefined;
    try {
      saved = JSON.parse(fs.readFileSync(this.file, 'utf8')) as UidFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${this.file} cannot be read: ${(err as Error).message}`);
    }
    for (const [id, uid] of Object.entries(saved?.uids ?? {})) {
      if (!Number.isInteger(uid) || uid < base || uid >= base + RANGE) throw new Error(`${this.file}: uid ${uid} of ${id} is outside ${base}..${base + RANGE - 1}`);
      this.uids.set(id, uid);
      this.taken.add(uid);
    }
    // Accounts of the machine are never handed to a learner.
    for (const uid of systemIds()) this.taken.add(uid);
    // A saved uid that another server claimed meanwhile is given up: the learner gets a new one
    // on their next shell (and their home is handed to it then).
    let changed = false;
    for (const [id, uid] of this.uids) {
      if (this.claim(uid)) continue;
      this.uids.delete(id);
      changed = true;
    }
    if (changed) this.save();
  }

  /** Every uid this allocator can hand out (inclusive): any learner of any server with this base. */
  get range(): { min: number; max: number } {
    return { min: this.base, max: this.base + RANGE - 1 };
  }

  /** The learner's uid, allocated (and persisted before it is used) on first call. */
  uidOf(learnerId: string): number {
    const known = this.uids.get(learnerId);
    if (known !== undefined) return known;
    let uid = this.base;
    while (uid < this.base + RANGE && (this.taken.has(uid) || !this.claim(uid))) {
      this.taken.add(uid);
      uid++;
    }
    if (uid >= this.base + RANGE) throw new Error('no learner uid left');
    this.uids.set(learnerId, uid);
    this.taken.add(uid);
    this.save();
    return uid;
  }

  /** Whether this server holds the machine-wide claim on uid (taking it if free or stale). */
  private claim(uid: number): boolean {
    const file = path.join(this.claimsDir, String(uid));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, this.owner, { flag: 'wx', mode: 0o600 });
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot claim uid ${uid} in ${this.claimsDir}: ${(err as Error).message}`);
      }
      let holder = '';
      try {
        holder = fs.readFileSync(file, 'utf8');
      } catch {
        continue; // released between our two calls: try again
      }
      if (holder === this.owner) return true;
      if (holder && fs.existsSync(holder)) return false;
      // Stale (its server's data dir is gone, or the file is empty from a crash mid-write).
      fs.rmSync(file, { force: true });
    }
    return false;
  }

  private save(): void {
    const data: UidFile = { version: 1, uids: Object.fromEntries(this.uids) };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    // Written aside and renamed: a crash never leaves half a file (and so two learners one uid).
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(data)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}

function systemIds(): number[] {
  const ids: number[] = [];
  for (const file of ['/etc/passwd', '/etc/group']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const id = Number(line.split(':')[2]);
      if (Number.isInteger(id)) ids.push(id);
    }
  }
  return ids;
}
