/**
 * A deduplicating work queue: controllers enqueue keys from store events and reconcile them
 * later, outside the write that caused them (no re-entrancy into the store's emit loop).
 */
export class WorkQueue {
  private readonly keys = new Set<string>();
  private scheduled: NodeJS.Immediate | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly reconcile: (key: string) => Promise<void> | void) {}

  add(key: string): void {
    if (this.stopped) return;
    this.keys.add(key);
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.running = this.running.then(() => this.drain());
    });
  }

  /**
   * One batch: the keys queued when it starts. Keys added meanwhile (a reconcile that triggers
   * itself) wait for the next macrotask, so no controller loop can starve the event loop.
   */
  private async drain(): Promise<void> {
    const batch = [...this.keys];
    this.keys.clear();
    for (const key of batch) {
      if (this.stopped) return;
      try {
        await this.reconcile(key);
      } catch (e) {
        if (!this.stopped) console.error(`sim controller: reconcile ${key} failed:`, (e as Error).message);
      }
    }
  }

  /** Resolves once everything queued so far has been processed. */
  async idle(): Promise<void> {
    for (let i = 0; i < 100 && (this.keys.size || this.scheduled); i++) {
      await new Promise((r) => setImmediate(r));
      await this.running;
    }
    await this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.keys.clear();
  }
}
