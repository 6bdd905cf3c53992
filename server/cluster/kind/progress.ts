/**
 * Reading `kind create cluster`'s status lines into a progress figure. kind prints each stage
 * when it starts (` • Ensuring node image (kindest/node:…) 🖼  ...` without a terminal) and when
 * it ends (` ✓ …` or ` ✗ …`), always in this order.
 */

/** kind's stages with a rough share of the wall time each takes (the node image pull dominates a first run). */
export const KIND_STAGES = [
  { name: 'Ensuring node image', weight: 40 },
  { name: 'Preparing nodes', weight: 15 },
  { name: 'Writing configuration', weight: 3 },
  { name: 'Starting control-plane', weight: 17 },
  { name: 'Installing CNI', weight: 5 },
  { name: 'Installing StorageClass', weight: 3 },
  { name: 'Joining worker nodes', weight: 12 },
  { name: 'Waiting', weight: 5 },
] as const;

const TOTAL = KIND_STAGES.reduce((n, s) => n + s.weight, 0);

export interface KindProgress {
  /** 0-100. */
  percent: number;
  /** The stage running or last finished, as kind names it (e.g. "Joining worker nodes"). */
  stage: string | undefined;
  /** The stage kind marked as failed (✗), if any. */
  failedStage: string | undefined;
  /** kind's `ERROR: …` lines. */
  errors: string[];
}

export class KindProgressParser {
  private done = new Set<number>();
  private current: number | undefined;
  private failed: string | undefined;
  private readonly errors: string[] = [];
  private pending = '';

  /** Feeds a chunk of kind's output (stdout and stderr alike); returns whether the progress changed. */
  push(chunk: string): boolean {
    this.pending += chunk;
    const lines = this.pending.split(/\r?\n|\r/);
    this.pending = lines.pop() ?? '';
    let changed = false;
    for (const line of lines) changed = this.line(line) || changed;
    return changed;
  }

  /** Reads what is left without a final newline (the process ended). */
  end(): boolean {
    const rest = this.pending;
    this.pending = '';
    return rest ? this.line(rest) : false;
  }

  progress(): KindProgress {
    let weight = 0;
    for (const i of this.done) weight += KIND_STAGES[i]!.weight;
    // A running stage counts half: the bar moves when kind moves, never backwards.
    if (this.current !== undefined && !this.done.has(this.current)) weight += KIND_STAGES[this.current]!.weight / 2;
    const stage = this.current === undefined ? undefined : KIND_STAGES[this.current]!.name;
    return { percent: Math.min(100, Math.round((weight / TOTAL) * 100)), stage, failedStage: this.failed, errors: [...this.errors] };
  }

  private line(raw: string): boolean {
    const line = raw.trim();
    if (!line) return false;
    if (line.startsWith('ERROR:')) {
      this.errors.push(line.slice('ERROR:'.length).trim());
      return true;
    }
    const mark = line[0];
    if (mark !== '•' && mark !== '✓' && mark !== '✗') return false;
    const text = line.slice(1).trim();
    const index = KIND_STAGES.findIndex((s) => text.startsWith(s.name));
    if (index < 0) return false;
    if (mark === '✗') this.failed = KIND_STAGES[index]!.name;
    if (mark === '✓') {
      // kind runs stages in order: a finished stage means the earlier ones are done too.
      for (let i = 0; i <= index; i++) this.done.add(i);
    }
    this.current = index;
    return true;
  }
}
