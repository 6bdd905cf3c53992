/**
 * default-scheduler: filters nodes the way the 1.32 framework's default filter plugins do
 * (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit, in that order), picks the
 * least loaded feasible node, and binds. A pod that fits nowhere gets the FitError message and the
 * PostFilter (preemption) summary, word for word, on its PodScheduled condition and a
 * FailedScheduling event, and is retried whenever nodes or pods change.
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { bucketOf } from '../storage/store.js';
import { Informer, InformerController, nowISO, parseQuantity, podRequests, setCondition, splitKey, nsKey, type KubeletTimings, type Obj, type Resources } from './kit.js';

const SOURCE = { component: 'default-scheduler' };

interface Verdict {
  reasons: string[];
  /** UnschedulableAndUnresolvable: preemption cannot help on this node. */
  unresolvable: boolean;
}

export function tolerates(tolerations: Obj[] | undefined, taint: Obj): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.key === undefined || t.key === '') return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    if (t.operator === 'Exists') return true;
    return (t.value ?? '') === (taint.value ?? '');
  });
}

function matchExpression(e: Obj, value: string | undefined): boolean {
  const vals: string[] = e.values ?? [];
  switch (e.operator) {
    case 'In':
      return value !== undefined && vals.includes(value);
    case 'NotIn':
      return value === undefined || !vals.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(vals[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(vals[0]);
    default:
      return false;
  }
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (terms ORed, expressions ANDed). */
export function matchesNodeAffinity(spec: Obj, node: Obj): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms: Obj[] | undefined = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  return terms.some(
    (t) =>
      (t.matchExpressions ?? []).every((e: Obj) => matchExpression(e, labels[e.key])) &&
      (t.matchFields ?? []).every((e: Obj) => e.key === 'metadata.name' && matchExpression(e, node.metadata.name)) &&
      ((t.matchExpressions ?? []).length > 0 || (t.matchFields ?? []).length > 0),
  );
}

export class Scheduler extends InformerController {
  protected readonly informer: Informer;
  private readonly pods: string;
  private readonly nodes: string;
  private readonly attempted = new Set<string>();

  constructor(
    private readonly cluster: ClusterApi,
    private readonly res: Resources,
    private readonly events: ClusterEvents,
    private readonly timings: KubeletTimings,
  ) {
    super();
    this.pods = res.pods.bucket;
    this.nodes = res.nodes.bucket;
    this.informer = new Informer(
      cluster,
      [this.pods, this.nodes],
      (e) => {
        if (e.bucket === this.nodes) return this.pendingKeys();
        const p = e.object as Obj;
        if (e.type === 'DELETED' || p.spec?.nodeName) {
          this.attempted.delete(nsKey(p));
          // Freed capacity may let a waiting pod in.
          return e.type === 'DELETED' || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? this.pendingKeys() : undefined;
        }
        if (!this.mine(p)) return undefined;
        const key = nsKey(p);
        if (e.type === 'ADDED' && this.timings.schedule > 0 && !this.attempted.has(key)) {
          this.informer.after(this.timings.schedule, key);
          return undefined;
        }
        return key;
      },
      (key) => this.schedule(key),
    );
  }

  private mine(p: Obj): boolean {
    return !p.spec?.nodeName && (p.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler' && !p.metadata.deletionTimestamp;
  }

  private pendingKeys(): string[] {
    const keys: string[] = [];
    this.cluster.store.scan((bucket, o) => {
      if (bucket === this.pods && this.mine(o as Obj) && this.attempted.has(nsKey(o))) keys.push(nsKey(o));
    });
    return keys;
  }

  private verdict(pod: Obj, node: Obj, used: Map<string, { cpu: number; memory: number; pods: number; own: number }>): Verdict {
    const spec = pod.spec ?? {};
    if (node.spec?.unschedulable && !tolerates(spec.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) {
      return { reasons: ['node(s) were unschedulable'], unresolvable: true };
    }
    for (const t of node.spec?.taints ?? []) {
      if (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') continue;
      if (!tolerates(spec.tolerations, t)) return { reasons: [`node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`], unresolvable: true };
    }
    if (!matchesNodeAffinity(spec, node)) return { reasons: ["node(s) didn't match Pod's node affinity/selector"], unresolvable: true };
    const alloc = node.status?.allocatable ?? {};
    const u = used.get(node.metadata.name) ?? { cpu: 0, memory: 0, pods: 0, own: 0 };
    const req = podRequests(spec);
    const reasons: string[] = [];
    if (u.pods + 1 > parseQuantity(alloc.pods ?? '110')) reasons.push('Too many pods');
    if ((req.cpu ?? 0) > 0 && u.cpu + req.cpu > parseQuantity(alloc.cpu ?? '0') + 1e-9) reasons.push('Insufficient cpu');
    if ((req.memory ?? 0) > 0 && u.memory + req.memory > parseQuantity(alloc.memory ?? '0')) reasons.push('Insufficient memory');
    for (const [k, v] of Object.entries(req)) {
      if (k === 'cpu' || k === 'memory' || k === 'ephemeral-storage' || v <= 0) continue;
      if (v > parseQuantity(alloc[k] ?? '0')) reasons.push(`Insufficient ${k}`);
    }
    return { reasons, unresolvable: false };
  }

  private usage(pod: Obj): Map<string, { cpu: number; memory: number; pods: number; own: number }> {
    const owner = pod.metadata.ownerReferences?.find((r: Obj) => r.controller)?.uid;
    const used = new Map<string, { cpu: number; memory: number; pods: number; own: number }>();
    this.cluster.store.scan((bucket, o) => {
      const p = o as Obj;
      if (bucket !== this.pods || !p.spec?.nodeName) return;
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return;
      const u = used.get(p.spec.nodeName) ?? { cpu: 0, memory: 0, pods: 0, own: 0 };
      const r = podRequests(p.spec);
      u.cpu += r.cpu ?? 0;
      u.memory += r.memory ?? 0;
      u.pods += 1;
      if (owner && p.metadata.ownerReferences?.some((x: Obj) => x.uid === owner)) u.own += 1;
      used.set(p.spec.nodeName, u);
    });
    return used;
  }

  private async schedule(key: string): Promise<void> {
    const [ns, name] = splitKey(key);
    const pod = this.cluster.store.get(this.pods, ns, name) as Obj | undefined;
    if (!pod || !this.mine(pod)) return;
    this.attempted.add(key);
    const nodes = this.cluster.store.list(this.nodes) as Obj[];
    const used = this.usage(pod);
    const feasible: Obj[] = [];
    const verdicts: Verdict[] = [];
    for (const n of nodes) {
      const v = this.verdict(pod, n, used);
      if (v.reasons.length === 0) feasible.push(n);
      else verdicts.push(v);
    }
    if (feasible.length === 0) return this.unschedulable(pod, nodes.length, verdicts);
    // Spread replicas of one owner first, then prefer the least requested CPU, then fewer pods.
    const score = (n: Obj) => {
      const u = used.get(n.metadata.name) ?? { cpu: 0, memory: 0, pods: 0, own: 0 };
      const cpu = parseQuantity(n.status?.allocatable?.cpu ?? '1') || 1;
      return u.own * 1000 + (u.cpu / cpu) * 100 + u.pods;
    };
    feasible.sort((a, b) => score(a) - score(b) || (a.metadata.name < b.metadata.name ? -1 : 1));
    await this.bind(pod, feasible[0]!.metadata.name);
  }

  private async bind(pod: Obj, nodeName: string): Promise<void> {
    // What the pods/binding subresource does in storage: set nodeName and PodScheduled at once.
    const upd = structuredClone(pod);
    upd.spec.nodeName = nodeName;
    upd.status ??= {};
    upd.status.conditions = setCondition(upd.status.conditions ?? [], { type: 'PodScheduled', status: 'True', lastProbeTime: null }, nowISO());
    for (const c of upd.status.conditions) if (c.type === 'PodScheduled') delete c.reason, delete c.message;
    const stored = this.cluster.store.update(this.pods, upd as KubeObject, pod.metadata.resourceVersion);
    if (stored === 'conflict') return this.informer.after(5, nsKey(pod));
    if (stored === 'missing') return;
    this.attempted.delete(nsKey(pod));
    this.events.normal(stored, 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`, SOURCE);
  }

  private async unschedulable(pod: Obj, total: number, verdicts: Verdict[]): Promise<void> {
    const message = total === 0 ? 'no nodes available to schedule pods' : fitErrorMessage(total, verdicts);
    const cond = (pod.status?.conditions ?? []).find((c: Obj) => c.type === 'PodScheduled');
    if (cond?.status === 'False' && cond.message === message) return;
    const upd = structuredClone(pod);
    upd.status ??= {};
    upd.status.conditions = setCondition(upd.status.conditions ?? [], { type: 'PodScheduled', status: 'False', lastProbeTime: null, reason: 'Unschedulable', message }, nowISO());
    upd.status.phase ??= 'Pending';
    const stored = this.cluster.store.update(this.pods, upd as KubeObject, pod.metadata.resourceVersion);
    if (stored === 'conflict') return this.informer.after(5, nsKey(pod));
    if (stored === 'missing') return;
    this.events.warning(stored, 'FailedScheduling', message, SOURCE);
  }
}

function countedReasons(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).sort().join(', ');
}

/** framework.FitError.Error() plus the default PostFilter's (preemption) summary. */
export function fitErrorMessage(total: number, verdicts: Verdict[]): string {
  const fit = `0/${total} nodes are available: ${countedReasons(verdicts.flatMap((v) => v.reasons))}.`;
  const preemption = verdicts.map((v) => (v.unresolvable ? 'Preemption is not helpful for scheduling' : 'No preemption victims found for incoming pod'));
  return `${fit} preemption: 0/${total} nodes are available: ${countedReasons(preemption)}.`;
}

export const PODS_BUCKET = bucketOf('', 'pods');
