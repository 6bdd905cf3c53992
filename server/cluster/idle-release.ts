/**
 * Releases a learner's cluster once it has gone unused for the idle timeout: no open terminal
 * and no live check subscription. The backend keeps the state (sim-backend.ts), so the next
 * acquire brings the cluster back as it was.
 */
import type { Logger } from 'pino';
import type { ClusterBackend } from './backend.js';

export interface IdleReleaseOptions {
  backend: ClusterBackend;
  idleMs: number;
  /** Whether the learner still uses their cluster (a terminal session, a watched step). */
  inUse(learnerId: string): boolean;
  logger?: Logger;
}

export class IdleRelease {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly options: IdleReleaseOptions) {}

  /** The learner's cluster was just acquired or used: the idle clock starts again. */
  touch(learnerId: string): void {
    if (this.closed) return;
    clearTimeout(this.timers.get(learnerId));
    const timer = setTimeout(() => this.expire(learnerId), this.options.idleMs);
    timer.unref();
    this.timers.set(learnerId, timer);
  }

  /** Something that kept the cluster in use ended (the last terminal, say): count from now. */
  unused(learnerId: string): void {
    if (this.timers.has(learnerId)) this.touch(learnerId);
  }

  /** Learners whose cluster is held (for tests and benchmarks). */
  held(): string[] {
    return [...this.timers.keys()];
  }

  private expire(learnerId: string): void {
    if (this.options.inUse(learnerId)) return this.touch(learnerId);
    this.timers.delete(learnerId);
    this.options.logger?.info({ learnerId }, 'releasing an idle cluster');
    this.options.backend.release(learnerId).catch((err: unknown) => this.options.logger?.error({ err, learnerId }, 'releasing an idle cluster failed'));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
