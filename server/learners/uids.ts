/**
 * A uid (and gid of the same number) of their own for each learner, when the server runs as root:
 * the kernel then keeps learners apart (files, signals, ptrace, process limits). The allocation is
 * persisted under the data dir so a learner keeps their uid (and owns their home) across restarts.
 */
import fs from 'node:fs';
import path from 'node:path';

export const DEFAULT_UID_BASE = 100_000;
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

  constructor(
    dataDir: string,
    private readonly base = DEFAULT_UID_BASE,
  ) {
    this.file = path.join(dataDir, 'learners', 'uids.json');
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
  }

  /** The learner's uid, allocated (and persisted before it is used) on first call. */
  uidOf(learnerId: string): number {
    const known = this.uids.get(learnerId);
    if (known !== undefined) return known;
    let uid = this.base;
    while (this.taken.has(uid)) uid++;
    if (uid >= this.base + RANGE) throw new Error('no learner uid left');
    this.uids.set(learnerId, uid);
    this.taken.add(uid);
    this.save();
    return uid;
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
