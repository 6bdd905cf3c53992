import fs from 'node:fs';
import path from 'node:path';

/**
 * Node InternalIPs are loopback addresses of this machine (all of 127.0.0.0/8 answers locally on
 * Linux), so `curl http://$NODE_IP:$NODE_PORT` from the terminal reaches a NodePort listener.
 *
 * Every cluster needs a 127.X.Y.0/24 block of its own; nodes take .2, .3, … of it. Clusters in one
 * process (tests, `sim/main.ts`) lease theirs from an allocator shared by the process, handed back
 * when the cluster stops; a learner's cluster (a process of its own) claims one machine-wide, below.
 */
export class LoopbackBlockAllocator {
  private readonly inUse = new Set<string>();

  /** Leases a free block; returns its first three octets, e.g. `127.41.7`. */
  lease(random: () => number = Math.random): string {
    for (let tries = 0; tries < 10_000; tries++) {
      // 127.0.x is left alone: 127.0.0.1 is where the API servers themselves listen.
      const block = `127.${1 + Math.floor(random() * 254)}.${Math.floor(random() * 256)}`;
      if (!this.inUse.has(block)) {
        this.inUse.add(block);
        return block;
      }
    }
    throw new Error('no free 127.x.y.0/24 block for node addresses');
  }

  release(block: string): void {
    this.inUse.delete(block);
  }

  get leased(): number {
    return this.inUse.size;
  }
}

/** The allocator clusters use unless they are given a block or an allocator (in-process clusters: tests, `sim/main.ts`). */
export const processLoopbackBlocks = new LoopbackBlockAllocator();

/**
 * A learner's cluster runs in a process of its own, so the per-process allocator above cannot keep
 * two learners' clusters (or two servers' on one machine) apart. Their blocks are claimed machine-wide
 * instead, as learner uids are (server/learners/uids.ts): a file named after the block, created with
 * O_EXCL, holding the path of the cluster's state directory. The claim outlives the process, so a
 * restored cluster keeps its block (its Node objects carry the addresses); it is stale, and may be
 * taken over, once that state directory is gone.
 */
export interface BlockClaimOptions {
  claimsDir: string;
  /** Who holds the claim: the cluster's state directory (made absolute and resolved). */
  holder: string;
  /** The block the cluster had before (from its saved Node objects), kept when still ours or free. */
  preferred?: string;
  random?: () => number;
}

const BLOCK = /^127\.([1-9]\d{0,2})\.(\d{1,3})$/;

export function isNodeBlock(block: string): boolean {
  const m = BLOCK.exec(block);
  return !!m && Number(m[1]) <= 255 && Number(m[2]) <= 255;
}

export function claimNodeBlock(o: BlockClaimOptions): string {
  fs.mkdirSync(o.claimsDir, { recursive: true, mode: 0o700 });
  const holder = fs.realpathSync(o.holder);
  const random = o.random ?? Math.random;
  if (o.preferred && isNodeBlock(o.preferred) && claim(o.claimsDir, o.preferred, holder)) return o.preferred;
  const tried = new Set<string>();
  for (let tries = 0; tries < 10_000; tries++) {
    const block = `127.${1 + Math.floor(random() * 254)}.${Math.floor(random() * 256)}`;
    if (tried.has(block)) continue;
    tried.add(block);
    if (claim(o.claimsDir, block, holder)) return block;
  }
  throw new Error(`no free 127.x.y.0/24 block for node addresses in ${o.claimsDir}`);
}

function claim(dir: string, block: string, holder: string): boolean {
  const file = path.join(dir, block);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, holder, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot claim node block ${block} in ${dir}: ${(err as Error).message}`);
    }
    let current = '';
    try {
      current = fs.readFileSync(file, 'utf8');
    } catch {
      continue; // released between our two calls: try again
    }
    if (current === holder) return true;
    if (current && fs.existsSync(current)) return false;
    // Stale (its cluster's state is gone, or the file is empty from a crash mid-write).
    fs.rmSync(file, { force: true });
  }
  return false;
}

/** The block a saved cluster's nodes were on: the first three octets of a Node's loopback InternalIP. */
export function savedNodeBlock(nodes: readonly { status?: { addresses?: { type?: string; address?: string }[] } }[]): string | undefined {
  for (const n of nodes) {
    const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const block = typeof ip === 'string' ? ip.split('.').slice(0, 3).join('.') : '';
    if (isNodeBlock(block)) return block;
  }
  return undefined;
}
