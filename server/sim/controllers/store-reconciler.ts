/**
 * A control loop outside the controller manager (namespace lifecycle, garbage collection, CRD
 * cleanup): every store change may wake some keys, which are reconciled later from a work queue.
 */
import type { ObjectStore, StoreEvent } from '../storage/store.js';
import { WorkQueue } from '../storage/workqueue.js';
import type { ResourceRegistry } from '../registry/registry.js';
import type { RestStorage } from '../registry/rest.js';

export abstract class StoreReconciler {
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;

  constructor(
    protected readonly store: ObjectStore,
    protected readonly registry: ResourceRegistry,
    protected readonly rest: RestStorage,
    /** Which keys a store change wakes (called inside the store's emit loop: enqueue only). */
    route: (e: StoreEvent, enqueue: (key: string) => void) => void,
  ) {
    this.queue = new WorkQueue((key) => this.reconcile(key));
    const enqueue = (key: string) => this.queue.add(key);
    this.unsubscribe = store.onAnyChange((e) => route(e, enqueue));
  }

  protected abstract reconcile(key: string): Promise<void>;

  protected enqueue(key: string): void {
    this.queue.add(key);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  stop(): void {
    this.unsubscribe();
    this.queue.stop();
  }
}
