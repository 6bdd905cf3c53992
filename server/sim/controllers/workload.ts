/**
 * What the workload controllers (ReplicaSet, Deployment, DaemonSet, StatefulSet, Job) share: a
 * watch on their own kind plus the pods they control, the owner a queue key names, and pod
 * writes that tolerate losing a race.
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import type { StoreEvent } from '../storage/store.js';
import type { ResourceDef } from '../registry/resource.js';
import { ApiError } from '../errors.js';
import { Informer, InformerController, controllerKey, nsKey, ownedBy, quietly, splitKey, type Obj, type Resources } from './kit.js';

type KeyOf = (e: StoreEvent) => string[] | string | undefined;

/** Most a failing pod create waits before the next try (client-go's per-item backoff, capped for a lab). */
const MAX_CREATE_BACKOFF_MS = 60_000;

export abstract class WorkloadController extends InformerController {
  protected readonly informer: Informer;
  /** Owners whose last pod create failed: how often, and whether this sync already failed once. */
  private readonly createFailures = new Map<string, { failures: number; blocked: boolean }>();

  /**
   * Watches `owner` objects and pods whose controller is a `kind`; `also` adds buckets (or
   * replaces how pod events map to keys) for controllers that care about more.
   */
  constructor(
    protected readonly cluster: ClusterApi,
    protected readonly res: Resources,
    protected readonly events: ClusterEvents,
    private readonly owner: ResourceDef,
    private readonly kind: string,
    also: Record<string, KeyOf> = {},
  ) {
    super();
    this.informer = new Informer(
      cluster,
      [...new Set([owner.bucket, res.pods.bucket, ...Object.keys(also)])],
      (e) => {
        if (e.bucket === owner.bucket) return nsKey(e.object);
        const keyOf = also[e.bucket];
        return keyOf ? keyOf(e) : controllerKey(e.object, kind);
      },
      (key) => {
        const f = this.createFailures.get(key);
        if (f) f.blocked = false;
        return this.sync(key);
      },
    );
  }

  protected abstract sync(key: string): Promise<void>;

  /** The owner a queue key names, as the API shows it; undefined once it is gone or being deleted. */
  protected current(key: string): Obj | undefined {
    const [ns, name] = splitKey(key);
    const stored = this.cluster.store.get(this.owner.bucket, ns, name);
    if (!stored) return undefined;
    const o = this.cluster.rest.present(this.owner, stored) as Obj;
    return o.metadata.deletionTimestamp ? undefined : o;
  }

  protected ownedPods(owner: Obj): Obj[] {
    return ownedBy(this.cluster, this.res.pods.bucket, owner.metadata.namespace, owner.metadata.uid);
  }

  /** Creates a pod in its owner's namespace; undefined when a conflicting write got there first. */
  protected async submitPod(pod: Obj): Promise<KubeObject | undefined> {
    const ref = (pod.metadata.ownerReferences ?? []).find((r: Obj) => r.controller);
    const key = ref ? `${pod.metadata.namespace}/${ref.name}` : undefined;
    const failed = key ? this.createFailures.get(key) : undefined;
    // slowStartBatch stops at the first error: one failed create per sync, then a backed-off retry.
    if (failed?.blocked) return undefined;
    try {
      const created = await quietly(() => this.cluster.rest.create(this.res.pods, pod.metadata.namespace, pod, { fieldManager: 'kube-controller-manager' }));
      if (key) this.createFailures.delete(key);
      return created;
    } catch (e) {
      // Refused by the API server (an admission webhook, a quota): a FailedCreate event, then retry.
      if (!(e instanceof ApiError) || !key) throw e;
      const failures = (failed?.failures ?? 0) + 1;
      this.createFailures.set(key, { failures, blocked: true });
      const owner = this.current(key);
      const component = `${this.kind.toLowerCase()}-controller`;
      const message = this.kind === 'StatefulSet' ? `create Pod ${pod.metadata.name} in StatefulSet ${ref.name} failed error: ${e.message}` : `Error creating: ${e.message}`;
      if (owner) this.events.warning(owner as KubeObject, 'FailedCreate', message, { component });
      this.informer.after(Math.min(5 * 2 ** failures, MAX_CREATE_BACKOFF_MS), key);
      return undefined;
    }
  }

  protected removePod(p: Obj): Promise<unknown> {
    return quietly(() => this.cluster.rest.delete(this.res.pods, p.metadata.namespace, p.metadata.name));
  }
}
