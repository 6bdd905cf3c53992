/**
 * The ReplicaSet controller: keeps spec.replicas active pods (creating from the template, deleting
 * the least valuable first: unscheduled, pending, not ready, newest), reports replicas / ready /
 * available counts, and records SuccessfulCreate / SuccessfulDelete events.
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { selectorMatches } from '../registry/strategies/workloads.js';
import { isPodActive, isPodAvailable, isPodReady, nsKey, omitEmpty, ownerRefTo, writeStatus, type Obj, type Resources } from './kit.js';
import { WorkloadController } from './workload.js';
import type { ResourceDef } from '../registry/resource.js';


/** A pod from a workload's template, owned by it (the pieces every workload controller shares). */
export function podFromTemplate(owner: KubeObject, template: Obj, extraLabels: Record<string, string> = {}): Obj {
  const tm = template.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...(tm.labels ?? {}), ...extraLabels },
      ...(tm.annotations ? { annotations: { ...tm.annotations } } : {}),
      ...(tm.finalizers ? { finalizers: [...tm.finalizers] } : {}),
      ownerReferences: [ownerRefTo(owner)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}

/** Which pods to delete first when scaling down (controller.ActivePods ordering). */
export function deletionRank(a: Obj, b: Obj): number {
  const assigned = (p: Obj) => (p.spec?.nodeName ? 1 : 0);
  const phase = (p: Obj) => ({ Pending: 0, Unknown: 1, Running: 2 })[p.status?.phase as string] ?? 0;
  const ready = (p: Obj) => (isPodReady(p) ? 1 : 0);
  const restarts = (p: Obj) => (p.status?.containerStatuses ?? []).reduce((n: number, c: Obj) => n + (c.restartCount ?? 0), 0);
  return (
    assigned(a) - assigned(b) ||
    phase(a) - phase(b) ||
    ready(a) - ready(b) ||
    restarts(b) - restarts(a) ||
    Date.parse(b.metadata.creationTimestamp) - Date.parse(a.metadata.creationTimestamp)
  );
}

/**
 * The ReplicaSet controller, and the ReplicationController manager (the same code in kube,
 * pkg/controller/replication wraps the ReplicaSet one with its own kind and event source).
 */
export class ReplicaSetController extends WorkloadController {
  private readonly source: { component: string };
  private readonly def: ResourceDef;

  constructor(cluster: ClusterApi, res: Resources, events: ClusterEvents, kind: 'ReplicaSet' | 'ReplicationController' = 'ReplicaSet') {
    const def = kind === 'ReplicaSet' ? res.replicaSets : res.replicationControllers;
    super(cluster, res, events, def, kind);
    this.def = def;
    this.source = { component: kind === 'ReplicaSet' ? 'replicaset-controller' : 'replication-controller' };
  }

  protected async sync(key: string): Promise<void> {
    const rs = this.current(key);
    if (!rs) return;
    const pods = this.ownedPods(rs);
    const active = pods.filter(isPodActive);
    const want = rs.spec?.replicas ?? 1;
    const diff = active.length - want;
    if (diff < 0) {
      for (let i = 0; i < -diff; i++) {
        const pod = podFromTemplate(rs as KubeObject, rs.spec.template);
        const created = await this.submitPod(pod);
        if (created) this.events.normal(rs as KubeObject, 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, this.source);
      }
    } else if (diff > 0) {
      const victims = [...active].sort(deletionRank).slice(0, diff);
      for (const p of victims) {
        const r = await this.removePod(p);
        if (r) this.events.normal(rs as KubeObject, 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, this.source);
      }
    }
    await this.updateStatus(rs);
  }

  private async updateStatus(rs: Obj): Promise<void> {
    const now = Date.now();
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const live = this.cluster.store.get(this.def.bucket, rs.metadata.namespace, rs.metadata.name) as Obj | undefined;
    if (!live) return;
    const active = this.ownedPods(live).filter(isPodActive);
    const tplLabels = live.spec?.template?.metadata?.labels ?? {};
    const ready = active.filter(isPodReady);
    const available = active.filter((p) => isPodAvailable(p, minReady, now));
    if (ready.length > available.length && minReady) this.informer.after(minReady * 1000 + 10, nsKey(live as KubeObject));
    const status = omitEmpty({
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) => selectorMatches({ matchLabels: tplLabels }, p.metadata.labels)).length,
      readyReplicas: ready.length,
      availableReplicas: available.length,
      observedGeneration: live.metadata.generation,
      ...(live.status?.conditions?.length ? { conditions: live.status.conditions } : {}),
    });
    status.replicas = active.length;
    await writeStatus(this.cluster, this.def, this.cluster.rest.present(this.def, live as KubeObject), status);
  }
}
