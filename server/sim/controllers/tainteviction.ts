/**
 * The taint eviction controller (kube-controller-manager's taint-eviction-controller, formerly the
 * node lifecycle's NoExecuteTaintManager): pods on a node with a NoExecute taint they do not
 * tolerate are marked (a DisruptionTarget condition) and deleted gracefully, with a
 * TaintManagerEviction event; pods tolerating it for tolerationSeconds go when that runs out
 * (on the cluster's clock), and a taint removed in time cancels their eviction.
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { Informer, InformerController, nowISO, quietly, selectObjects, setCondition, splitKey, type Obj, type Resources } from './kit.js';

const SOURCE = { component: 'taint-eviction-controller' };

/** Whether a toleration matches a taint (v1helper's ToleratesTaint, effect included). */
function toleration(tolerations: Obj[], taint: Obj): Obj | undefined {
  return tolerations.find((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

export class TaintEvictionController extends InformerController {
  protected readonly informer: Informer;
  /** Pods whose eviction waits for tolerationSeconds: the cancel of that wait. */
  private readonly pending = new Map<string, () => void>();

  constructor(
    private readonly cluster: ClusterApi,
    private readonly res: Resources,
    private readonly events: ClusterEvents,
  ) {
    super();
    this.informer = new Informer(
      cluster,
      [res.nodes.bucket, res.pods.bucket],
      (e) => {
        if (e.bucket === res.nodes.bucket) {
          if (e.type === 'DELETED') return undefined;
          const node = e.object.metadata.name;
          return selectObjects(cluster, res.pods.bucket, undefined, (p) => (p as Obj).spec?.nodeName === node).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
        }
        return (e.object as Obj).spec?.nodeName ? `${e.object.metadata.namespace}/${e.object.metadata.name}` : undefined;
      },
      (key) => this.sync(key),
    );
  }

  override stop(): void {
    for (const cancel of this.pending.values()) cancel();
    this.pending.clear();
    super.stop();
  }

  private cancel(key: string): void {
    const c = this.pending.get(key);
    if (!c) return;
    c();
    this.pending.delete(key);
    const [ns, name] = splitKey(key);
    this.events.normal({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name } } as KubeObject, 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`, SOURCE);
  }

  private async sync(key: string): Promise<void> {
    const [ns, name] = splitKey(key);
    // Read only (evict copies before it writes): every pod event comes here, hundreds in a state restore.
    const pod = this.cluster.store.peek(this.res.pods.bucket, ns, name) as Obj | undefined;
    if (!pod || pod.metadata.deletionTimestamp) {
      this.pending.get(key)?.();
      this.pending.delete(key);
      return;
    }
    const node = this.cluster.store.peek(this.res.nodes.bucket, '', pod.spec?.nodeName ?? '') as Obj | undefined;
    const taints: Obj[] = (node?.spec?.taints ?? []).filter((t: Obj) => t.effect === 'NoExecute');
    if (!taints.length) return this.cancel(key);
    const tolerations: Obj[] = pod.spec?.tolerations ?? [];
    const matched = taints.map((t) => toleration(tolerations, t));
    if (matched.some((m) => !m)) return this.evict(pod);
    // The shortest tolerationSeconds among them; none at all means "tolerate forever".
    const seconds = matched.map((m) => m!.tolerationSeconds).filter((s): s is number => typeof s === 'number');
    if (!seconds.length) return this.cancel(key);
    if (this.pending.has(key)) return;
    const ms = Math.max(0, Math.min(...seconds)) * 1000;
    this.pending.set(key, this.cluster.clock.after(ms, () => {
      this.pending.delete(key);
      const live = this.cluster.store.get(this.res.pods.bucket, ns, name) as Obj | undefined;
      if (live && !live.metadata.deletionTimestamp) void this.evict(live).catch((e) => this.cluster.log.error(`taint eviction of ${key}: ${(e as Error).message}`));
    }));
  }

  /** addConditionAndDeletePod, after the TaintManagerEviction event. */
  private async evict(pod: Obj): Promise<void> {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    this.pending.get(key)?.();
    this.pending.delete(key);
    this.events.normal(pod as KubeObject, 'TaintManagerEviction', `Marking for deletion Pod ${key}`, SOURCE);
    const marked = structuredClone(pod);
    marked.status ??= {};
    marked.status.conditions = setCondition(marked.status.conditions ?? [], { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' }, nowISO(), []);
    await quietly(() => this.cluster.rest.update(this.res.pods, pod.metadata.namespace, pod.metadata.name, marked as KubeObject, { fieldManager: 'kube-controller-manager' }, 'status'));
    await quietly(() => this.cluster.rest.delete(this.res.pods, pod.metadata.namespace, pod.metadata.name));
  }
}
