/**
 * The DaemonSet controller: one pod per eligible node (nodeSelector, node affinity, taints the
 * pods tolerate, with the tolerations the controller adds itself), pinned through node affinity on
 * metadata.name as kube does, replaced one node at a time when the template changes. A pod already
 * on a node that gains an untolerated NoSchedule taint stays (misscheduled); NoExecute removes it.
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { isPodActive, isPodAvailable, isPodReady, nsKey, omitEmpty, writeStatus, type Obj, type Resources } from './kit.js';
import { WorkloadController } from './workload.js';
import { podFromTemplate } from './replicaset.js';
import { matchesNodeAffinity, tolerates } from './scheduler.js';
import { podTemplateHash } from './deployment.js';

const SOURCE = { component: 'daemonset-controller' };

/** util.AddOrUpdateDaemonPodTolerations. */
function daemonTolerations(spec: Obj): Obj[] {
  const out: Obj[] = [...(spec.tolerations ?? [])];
  const add = (key: string, effect: string) => {
    if (!out.some((t) => t.key === key && (t.effect ?? effect) === effect)) out.push({ key, operator: 'Exists', effect });
  };
  add('node.kubernetes.io/not-ready', 'NoExecute');
  add('node.kubernetes.io/unreachable', 'NoExecute');
  add('node.kubernetes.io/disk-pressure', 'NoSchedule');
  add('node.kubernetes.io/memory-pressure', 'NoSchedule');
  add('node.kubernetes.io/pid-pressure', 'NoSchedule');
  add('node.kubernetes.io/unschedulable', 'NoSchedule');
  if (spec.hostNetwork) add('node.kubernetes.io/network-unavailable', 'NoSchedule');
  return out;
}

export class DaemonSetController extends WorkloadController {
  constructor(cluster: ClusterApi, res: Resources, events: ClusterEvents) {
    super(cluster, res, events, res.daemonSets, 'DaemonSet', {
      [res.nodes.bucket]: () => (cluster.store.list(res.daemonSets.bucket) as Obj[]).map((d) => nsKey(d)),
    });
  }

  /**
   * NodeShouldRunDaemonPod: whether a new pod belongs on the node, and whether one already there
   * may stay (an untolerated NoSchedule taint keeps it; only an untolerated NoExecute one evicts).
   */
  private placement(ds: Obj, node: Obj): { shouldRun: boolean; shouldContinueRunning: boolean } {
    const spec = ds.spec.template.spec ?? {};
    if (spec.nodeName && spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
    if (!matchesNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
    const tol = daemonTolerations(spec);
    const taints: Obj[] = node.spec?.taints ?? [];
    const untolerated = (effects: string[]) => taints.some((t) => effects.includes(t.effect) && !tolerates(tol, t));
    if (!untolerated(['NoSchedule', 'NoExecute'])) return { shouldRun: true, shouldContinueRunning: true };
    return { shouldRun: false, shouldContinueRunning: !untolerated(['NoExecute']) };
  }

  private eligible(ds: Obj, node: Obj): boolean {
    return this.placement(ds, node).shouldRun;
  }

  protected async sync(key: string): Promise<void> {
    const ds = this.current(key);
    if (!ds) return;
    const generation = String(ds.metadata.generation ?? 1);
    const hash = podTemplateHash(ds.spec.template).slice(0, 10);
    const nodes = this.cluster.store.list(this.res.nodes.bucket) as Obj[];
    const pods = this.ownedPods(ds);
    const active = pods.filter(isPodActive);
    // The node the controller pinned the pod to comes first: a template's own nodeName naming
    // another node would otherwise make every sync create one more pod per node, without end.
    const podNode = (p: Obj) => p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] ?? p.spec?.nodeName;
    const maxUnavailable = Number(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1) || 1;
    let unavailable = nodes.filter((n) => this.eligible(ds, n)).filter((n) => !active.some((p) => podNode(p) === n.metadata.name && isPodReady(p))).length;
    for (const node of nodes) {
      const n = node.metadata.name;
      const here = active.filter((p) => podNode(p) === n);
      const { shouldRun, shouldContinueRunning } = this.placement(ds, node);
      if (!shouldRun) {
        if (!shouldContinueRunning) for (const p of here) await this.deletePod(ds, p);
        continue;
      }
      if (here.length === 0) {
        if (pods.some((p) => podNode(p) === n && p.metadata.deletionTimestamp)) continue; // wait for the old one to go
        await this.createPod(ds, n, generation, hash);
        continue;
      }
      for (const p of here.slice(1)) await this.deletePod(ds, p);
      const current = here[0]!;
      const outdated = current.metadata.labels?.['pod-template-generation'] !== generation;
      if (outdated && (ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
        const ready = isPodReady(current);
        if (!ready || unavailable < maxUnavailable) {
          if (ready) unavailable++;
          await this.deletePod(ds, current);
        }
      }
    }
    await this.updateStatus(ds, generation);
  }

  private async createPod(ds: Obj, node: string, generation: string, hash: string): Promise<void> {
    const pod = podFromTemplate(ds as KubeObject, ds.spec.template, { 'controller-revision-hash': hash, 'pod-template-generation': generation });
    pod.spec.tolerations = daemonTolerations(pod.spec);
    pod.spec.affinity = {
      ...(pod.spec.affinity ?? {}),
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } },
    };
    const created = await this.submitPod(pod);
    if (created) this.events.normal(ds as KubeObject, 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, SOURCE);
  }

  private async deletePod(ds: Obj, p: Obj): Promise<void> {
    const r = await this.removePod(p);
    if (r) this.events.normal(ds as KubeObject, 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, SOURCE);
  }

  private async updateStatus(ds: Obj, generation: string): Promise<void> {
    const live = this.cluster.store.get(this.res.daemonSets.bucket, ds.metadata.namespace, ds.metadata.name);
    if (!live) return;
    const nodes = this.cluster.store.list(this.res.nodes.bucket) as Obj[];
    const pods = this.ownedPods(ds).filter((p) => isPodActive(p) && p.spec?.nodeName);
    const eligible = new Set(nodes.filter((n) => this.eligible(ds, n)).map((n) => n.metadata.name));
    const scheduled = pods.filter((p) => eligible.has(p.spec.nodeName));
    const now = Date.now();
    const updated = scheduled.filter((p) => p.metadata.labels?.['pod-template-generation'] === generation);
    const status = omitEmpty({
      currentNumberScheduled: scheduled.length,
      numberMisscheduled: pods.length - scheduled.length,
      desiredNumberScheduled: eligible.size,
      numberReady: scheduled.filter(isPodReady).length,
      observedGeneration: (live as Obj).metadata.generation,
      updatedNumberScheduled: updated.length,
      numberAvailable: scheduled.filter((p) => isPodAvailable(p, ds.spec.minReadySeconds ?? 0, now)).length,
      numberUnavailable: Math.max(0, eligible.size - scheduled.filter((p) => isPodAvailable(p, ds.spec.minReadySeconds ?? 0, now)).length),
    });
    status.currentNumberScheduled = scheduled.length;
    status.numberMisscheduled = pods.length - scheduled.length;
    status.desiredNumberScheduled = eligible.size;
    status.numberReady = scheduled.filter(isPodReady).length;
    await writeStatus(this.cluster, this.res.daemonSets, this.cluster.rest.present(this.res.daemonSets, live), status);
  }
}
