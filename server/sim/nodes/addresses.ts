/**
 * Node InternalIPs are loopback addresses of this machine (all of 127.0.0.0/8 answers locally on
 * Linux), so `curl http://$NODE_IP:$NODE_PORT` from the terminal reaches a NodePort listener.
 *
 * Several clusters run in one process, each needing its own addresses: every cluster leases one
 * 127.X.Y.0/24 block from an allocator shared by the process, picked at random (so two processes
 * rarely collide either) and handed back when the cluster stops. Nodes take .2, .3, … of the block.
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

/** The allocator clusters use unless they are given one (one per process, by design). */
export const processLoopbackBlocks = new LoopbackBlockAllocator();
