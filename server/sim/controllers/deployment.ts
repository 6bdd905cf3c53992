/**
 * The Deployment controller (pkg/controller/deployment): one ReplicaSet per pod template, named
 * `<deployment>-<pod-template-hash>`; rolling updates bounded by maxSurge / maxUnavailable;
 * Recreate; revisions in `deployment.kubernetes.io/revision` (rollbacks move a revision forward and
 * remember it in revision-history); revisionHistoryLimit; and the status and conditions
 * `kubectl rollout status` reads.
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { controllerKey, controllerRef, ownedBy, isPodActive, nowISO, nsKey, omitEmpty, ownerRefTo, quietly, setCondition, type Obj, type Resources } from './kit.js';
import { WorkloadController } from './workload.js';

const SOURCE = { component: 'deployment-controller' };
const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const HASH = 'pod-template-hash';
/** Annotations the controller never copies from a Deployment to its ReplicaSets. */
const SKIP_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, REVISION_HISTORY, DESIRED, MAX_REPLICAS]);

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString(fmt.Sprint(fnv32a(template, collisionCount))): the pod-template-hash shape. */
export function podTemplateHash(template: Obj, collisionCount = 0): string {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels[HASH];
  let h = 0x811c9dc5;
  const feed = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  };
  feed(canonical(t));
  if (collisionCount) feed(String(collisionCount));
  return [...String(h)].map((ch) => ALPHANUMS[ch.charCodeAt(0) % ALPHANUMS.length]).join('');
}

/**
 * Fields Go serialises with `omitempty`, so a zero there is the same as absent (a template read
 * back through kubectl, as `rollout undo` does, loses them).
 */
const OMIT_ZERO = new Set(['initialDelaySeconds', 'hostPort', 'minReadySeconds']);

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as Obj)
      .filter((k) => (v as Obj)[k] !== undefined && !(OMIT_ZERO.has(k) && (v as Obj)[k] === 0))
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Obj)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Templates equal ignoring the hash label (deploymentutil.EqualIgnoreHash). */
export function sameTemplate(a: Obj, b: Obj): boolean {
  const strip = (t: Obj) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels[HASH];
    if (c.metadata && c.metadata.creationTimestamp === undefined) c.metadata.creationTimestamp = null;
    return canonical(c);
  };
  return strip(a) === strip(b);
}

/** intstr resolution: surge rounds up, unavailable down; both zero means one may be unavailable. */
export function resolveFenceposts(d: Obj): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const val = (v: unknown, def: string, up: boolean) => {
    const x = v ?? def;
    if (typeof x === 'number') return x;
    const m = /^(\d+)%$/.exec(String(x));
    if (!m) return Number(x) || 0;
    const f = (Number(m[1]) * replicas) / 100;
    return up ? Math.ceil(f) : Math.floor(f);
  };
  const maxSurge = val(ru.maxSurge, '25%', true);
  let maxUnavailable = val(ru.maxUnavailable, '25%', false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  if (maxUnavailable > replicas) maxUnavailable = replicas;
  return { maxSurge, maxUnavailable };
}

const revisionOf = (rs: Obj) => Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
const specReplicas = (rs: Obj) => rs.spec?.replicas ?? 0;

export class DeploymentController extends WorkloadController {
  constructor(cluster: ClusterApi, res: Resources, events: ClusterEvents) {
    super(cluster, res, events, res.deployments, 'Deployment', {
      [res.replicaSets.bucket]: (e) => controllerKey(e.object, 'Deployment'),
      // Recreate waits for old pods to be gone.
      [res.pods.bucket]: (e) => {
        if (e.type !== 'DELETED') return undefined;
        const ref = controllerRef(e.object);
        if (ref?.kind !== 'ReplicaSet') return undefined;
        const rs = cluster.store.get(res.replicaSets.bucket, e.object.metadata.namespace ?? '', ref.name);
        const dref = rs && controllerRef(rs);
        return dref?.kind === 'Deployment' ? `${e.object.metadata.namespace}/${dref.name}` : undefined;
      },
    });
  }

  private present(def: 'deployments' | 'replicaSets', o: KubeObject): Obj {
    return this.cluster.rest.present(def === 'deployments' ? this.res.deployments : this.res.replicaSets, o) as Obj;
  }

  private ownedReplicaSets(d: Obj): Obj[] {
    return ownedBy(this.cluster, this.res.replicaSets.bucket, d.metadata.namespace, d.metadata.uid).map((rs) => this.present('replicaSets', rs as KubeObject));
  }

  protected async sync(key: string): Promise<void> {
    const d = this.current(key);
    if (!d) return;
    let all = this.ownedReplicaSets(d);
    let newRS = all.find((rs) => sameTemplate(rs.spec?.template, d.spec?.template));
    const olds = () => all.filter((rs) => rs !== newRS);

    await this.pauseCondition(d);
    if (d.spec?.paused) {
      await this.scaleForPause(d, newRS, olds());
      await this.syncStatus(d, newRS, this.ownedReplicaSets(d));
      return;
    }
    if (!newRS) {
      newRS = await this.createNewRS(d, all);
      if (!newRS) return;
      all = [...all, newRS];
    } else {
      newRS = await this.refreshNewRS(d, newRS, all);
    }
    const strategy = d.spec?.strategy?.type ?? 'RollingUpdate';
    if (strategy === 'Recreate') await this.recreate(d, newRS, olds());
    else await this.rolling(d, newRS, olds());
    await this.cleanup(d, this.ownedReplicaSets(d), newRS);
    await this.syncStatus(d, newRS, this.ownedReplicaSets(d));
  }

  private maxOldRevision(all: Obj[]): number {
    return all.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
  }

  private copiedAnnotations(d: Obj): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!SKIP_ANNOTATIONS.has(k)) out[k] = v as string;
    return out;
  }

  private async createNewRS(d: Obj, all: Obj[]): Promise<Obj | undefined> {
    const { maxSurge } = resolveFenceposts(d);
    const replicas = d.spec?.replicas ?? 1;
    let collision = d.status?.collisionCount ?? 0;
    const revision = String(this.maxOldRevision(all) + 1);
    const template = structuredClone(d.spec.template);
    for (let attempt = 0; attempt < 5; attempt++) {
      const hash = podTemplateHash(d.spec.template, collision);
      template.metadata ??= {};
      template.metadata.labels = { ...(d.spec.template.metadata?.labels ?? {}), [HASH]: hash };
      const rsName = `${d.metadata.name}-${hash}`;
      const existing = this.cluster.store.get(this.res.replicaSets.bucket, d.metadata.namespace, rsName);
      if (existing) {
        if (controllerRef(existing)?.uid === d.metadata.uid && sameTemplate((existing as Obj).spec?.template, d.spec.template)) return this.present('replicaSets', existing);
        collision++;
        continue;
      }
      // The first ReplicaSet starts at full size when nothing else runs (kube scales it in the same sync).
      const startReplicas = all.some((rs) => specReplicas(rs) > 0) && (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate' ? this.newReplicasForRolling(d, 0, all) : (d.spec?.strategy?.type === 'Recreate' ? 0 : replicas);
      const rs = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace: d.metadata.namespace,
          labels: { ...(d.spec.template.metadata?.labels ?? {}), [HASH]: hash },
          annotations: { ...this.copiedAnnotations(d), [DESIRED]: String(replicas), [MAX_REPLICAS]: String(replicas + maxSurge), [REVISION]: revision },
          ownerReferences: [ownerRefTo(d as KubeObject)],
        },
        spec: {
          replicas: startReplicas,
          minReadySeconds: d.spec?.minReadySeconds ?? 0,
          selector: { ...structuredClone(d.spec.selector), matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), [HASH]: hash } },
          template,
        },
      };
      if (collision !== (d.status?.collisionCount ?? 0)) {
        const upd = structuredClone(d);
        upd.status = { ...(upd.status ?? {}), collisionCount: collision };
        await quietly(() => this.cluster.rest.update(this.res.deployments, d.metadata.namespace, d.metadata.name, upd, {}, 'status'));
        return undefined;
      }
      const created = this.present('replicaSets', await this.cluster.rest.create(this.res.replicaSets, d.metadata.namespace, rs, { fieldManager: 'kube-controller-manager' }));
      if (startReplicas > 0) this.events.normal(d as KubeObject, 'ScalingReplicaSet', `Scaled up replica set ${rsName} from 0 to ${startReplicas}`, SOURCE);
      await this.setDeploymentRevision(d, revision);
      await this.progressing(d, 'NewReplicaSetCreated', `Created new replica set "${rsName}"`);
      return created;
    }
    return undefined;
  }

  /** The new ReplicaSet takes the next revision (a rollback moves an old one forward) and current annotations. */
  private async refreshNewRS(d: Obj, rs: Obj, all: Obj[]): Promise<Obj> {
    const maxOld = all.filter((x) => x !== rs).reduce((m, x) => Math.max(m, revisionOf(x)), 0);
    const ann = { ...(rs.metadata.annotations ?? {}) };
    const before = JSON.stringify(ann);
    let revision = ann[REVISION] ?? '0';
    if (Number(revision) <= maxOld) {
      const old = revision;
      revision = String(maxOld + 1);
      if (old !== '0') ann[REVISION_HISTORY] = ann[REVISION_HISTORY] ? `${ann[REVISION_HISTORY]},${old}` : old;
      ann[REVISION] = revision;
    }
    Object.assign(ann, this.copiedAnnotations(d));
    const { maxSurge } = resolveFenceposts(d);
    ann[DESIRED] = String(d.spec?.replicas ?? 1);
    ann[MAX_REPLICAS] = String((d.spec?.replicas ?? 1) + maxSurge);
    let out = rs;
    const minReady = d.spec?.minReadySeconds ?? 0;
    if (JSON.stringify(ann) !== before || (rs.spec?.minReadySeconds ?? 0) !== minReady) {
      const upd = structuredClone(rs);
      upd.metadata.annotations = ann;
      upd.spec.minReadySeconds = minReady;
      out = this.present('replicaSets', await this.cluster.rest.update(this.res.replicaSets, rs.metadata.namespace, rs.metadata.name, upd, { fieldManager: 'kube-controller-manager' }));
      if (revisionOf(rs) !== Number(revision) && revisionOf(rs) > 0) await this.progressing(d, 'FoundNewReplicaSet', `Found new replica set "${rs.metadata.name}"`);
    }
    await this.setDeploymentRevision(d, revision);
    return out;
  }

  private async setDeploymentRevision(d: Obj, revision: string): Promise<void> {
    const live = this.cluster.store.get(this.res.deployments.bucket, d.metadata.namespace, d.metadata.name) as Obj | undefined;
    if (!live || live.metadata.annotations?.[REVISION] === revision) return;
    live.metadata.annotations = { ...(live.metadata.annotations ?? {}), [REVISION]: revision };
    const stored = await this.cluster.rest.update(this.res.deployments, d.metadata.namespace, d.metadata.name, live, { fieldManager: 'kube-controller-manager' });
    d.metadata = stored.metadata;
  }

  private async scale(d: Obj, rs: Obj, to: number): Promise<Obj> {
    const from = specReplicas(rs);
    if (from === to) return rs;
    const upd = structuredClone(rs);
    upd.spec.replicas = to;
    const { maxSurge } = resolveFenceposts(d);
    upd.metadata.annotations = { ...(upd.metadata.annotations ?? {}), [DESIRED]: String(d.spec?.replicas ?? 1), [MAX_REPLICAS]: String((d.spec?.replicas ?? 1) + maxSurge) };
    const stored = this.present('replicaSets', await this.cluster.rest.update(this.res.replicaSets, rs.metadata.namespace, rs.metadata.name, upd, { fieldManager: 'kube-controller-manager' }));
    this.events.normal(d as KubeObject, 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`, SOURCE);
    return stored;
  }

  private newReplicasForRolling(d: Obj, current: number, all: Obj[]): number {
    const replicas = d.spec?.replicas ?? 1;
    const { maxSurge } = resolveFenceposts(d);
    const total = all.reduce((n, rs) => n + specReplicas(rs), 0);
    const maxTotal = replicas + maxSurge;
    if (total >= maxTotal) return current;
    return current + Math.max(0, Math.min(maxTotal - total, replicas - current));
  }

  private async rolling(d: Obj, newRS: Obj, olds: Obj[]): Promise<void> {
    const replicas = d.spec?.replicas ?? 1;
    const all = [newRS, ...olds];
    // Scale up the new ReplicaSet within maxSurge.
    if (specReplicas(newRS) > replicas) newRS = await this.scale(d, newRS, replicas);
    else if (specReplicas(newRS) < replicas) {
      const want = this.newReplicasForRolling(d, specReplicas(newRS), all);
      if (want !== specReplicas(newRS)) {
        newRS = await this.scale(d, newRS, want);
        await this.progressing(d, 'ReplicaSetUpdated', `ReplicaSet "${newRS.metadata.name}" is progressing.`);
      }
    }
    // Scale down old ones within maxUnavailable.
    const { maxUnavailable } = resolveFenceposts(d);
    const activeOlds = olds.filter((rs) => specReplicas(rs) > 0);
    if (!activeOlds.length) return;
    const allPods = [newRS, ...olds].reduce((n, rs) => n + specReplicas(rs), 0);
    const minAvailable = replicas - maxUnavailable;
    const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    let maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return;
    // Unhealthy old replicas go first: they do not count towards availability anyway.
    const sorted = [...activeOlds].sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp));
    let changed = false;
    for (const rs of sorted) {
      if (maxScaledDown <= 0) break;
      const unhealthy = specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      if (unhealthy <= 0) continue;
      const by = Math.min(maxScaledDown, unhealthy);
      const after = await this.scale(d, rs, specReplicas(rs) - by);
      Object.assign(rs, after);
      maxScaledDown -= by;
      changed = true;
    }
    const available = [newRS, ...olds].reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
    let canDown = Math.min(maxScaledDown, available - minAvailable);
    for (const rs of sorted) {
      if (canDown <= 0) break;
      if (specReplicas(rs) === 0) continue;
      const by = Math.min(canDown, specReplicas(rs));
      await this.scale(d, rs, specReplicas(rs) - by);
      canDown -= by;
      changed = true;
    }
    if (changed) await this.progressing(d, 'ReplicaSetUpdated', `ReplicaSet "${newRS.metadata.name}" is progressing.`);
  }

  private async recreate(d: Obj, newRS: Obj, olds: Obj[]): Promise<void> {
    for (const rs of olds) if (specReplicas(rs) > 0) await this.scale(d, rs, 0);
    const oldPods = olds.flatMap((rs) => ownedBy(this.cluster, this.res.pods.bucket, d.metadata.namespace, rs.metadata.uid));
    if (oldPods.length) return; // wait until every old pod is gone
    const replicas = d.spec?.replicas ?? 1;
    if (specReplicas(newRS) !== replicas) {
      await this.scale(d, newRS, replicas);
      await this.progressing(d, 'ReplicaSetUpdated', `ReplicaSet "${newRS.metadata.name}" is progressing.`);
    }
  }

  private async scaleForPause(d: Obj, newRS: Obj | undefined, olds: Obj[]): Promise<void> {
    const replicas = d.spec?.replicas ?? 1;
    const active = [newRS, ...olds].filter((rs): rs is Obj => !!rs && specReplicas(rs) > 0);
    if (active.length === 1 && specReplicas(active[0]!) !== replicas) await this.scale(d, active[0]!, replicas);
  }

  private async cleanup(d: Obj, all: Obj[], newRS: Obj): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const candidates = all.filter((rs) => rs.metadata.uid !== newRS.metadata.uid && specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp);
    if (candidates.length <= limit) return;
    candidates.sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of candidates.slice(0, candidates.length - limit)) {
      await quietly(() => this.cluster.rest.delete(this.res.replicaSets, rs.metadata.namespace, rs.metadata.name));
    }
  }

  /** `rollout pause` / `resume` show as Progressing Unknown with DeploymentPaused / DeploymentResumed. */
  private async pauseCondition(d: Obj): Promise<void> {
    const cond = (d.status?.conditions ?? []).find((c: Obj) => c.type === 'Progressing');
    if (d.spec?.paused && cond?.reason !== 'DeploymentPaused') await this.progressing(d, 'DeploymentPaused', 'Deployment is paused', 'Unknown');
    else if (!d.spec?.paused && cond?.reason === 'DeploymentPaused') await this.progressing(d, 'DeploymentResumed', 'Deployment is resumed', 'Unknown');
  }

  private async progressing(d: Obj, reason: string, message: string, status = 'True'): Promise<void> {
    const live = this.cluster.store.get(this.res.deployments.bucket, d.metadata.namespace, d.metadata.name) as Obj | undefined;
    if (!live) return;
    const now = nowISO();
    const conditions = setCondition(live.status?.conditions ?? [], { type: 'Progressing', status, reason, message }, now, ['lastUpdateTime']);
    // Any progress restarts the progress deadline, even with the same reason and message.
    for (const c of conditions) if (c.type === 'Progressing') c.lastUpdateTime = now;
    const upd = structuredClone(live);
    upd.status = { ...(upd.status ?? {}), conditions: orderConditions(conditions) };
    if (JSON.stringify(upd.status) === JSON.stringify(live.status)) return;
    await quietly(() => this.cluster.rest.update(this.res.deployments, d.metadata.namespace, d.metadata.name, upd, {}, 'status'));
  }

  /**
   * Progress (more updated or available replicas) moves the Progressing condition's
   * lastUpdateTime; without any for progressDeadlineSeconds the rollout is declared stuck.
   */
  private checkDeadline(live: Obj, conditions: Obj[], newRS: Obj, available: number, updated: number, now: string): Obj[] {
    const deadline = live.spec?.progressDeadlineSeconds;
    const cond = conditions.find((c) => c.type === 'Progressing');
    if (!cond || typeof deadline !== 'number' || cond.reason === 'ProgressDeadlineExceeded') return conditions;
    const moved = available > (live.status?.availableReplicas ?? 0) || updated > (live.status?.updatedReplicas ?? 0);
    if (moved) return conditions.map((c) => (c.type === 'Progressing' ? { ...c, lastUpdateTime: now } : c));
    const left = Date.parse(cond.lastUpdateTime ?? cond.lastTransitionTime) + deadline * 1000 - Date.now();
    if (left > 0) {
      this.informer.after(left + 50, nsKey(live));
      return conditions;
    }
    return setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${newRS.metadata.name}" has timed out progressing.` }, now, ['lastUpdateTime']);
  }

  private async syncStatus(d: Obj, newRS: Obj | undefined, all: Obj[]): Promise<void> {
    const live = this.cluster.store.get(this.res.deployments.bucket, d.metadata.namespace, d.metadata.name) as Obj | undefined;
    if (!live) return;
    const replicas = live.spec?.replicas ?? 1;
    const sum = (f: (rs: Obj) => number) => all.reduce((n, rs) => n + f(rs), 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const total = sum((rs) => rs.status?.replicas ?? 0);
    const updated = newRS ? (all.find((rs) => rs.metadata.uid === newRS.metadata.uid)?.status?.replicas ?? 0) : 0;
    const { maxUnavailable } = resolveFenceposts(live);
    const now = nowISO();
    let conditions: Obj[] = live.status?.conditions ?? [];
    conditions =
      available >= replicas - maxUnavailable
        ? setCondition(conditions, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }, now, ['lastUpdateTime'])
        : setCondition(conditions, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, now, ['lastUpdateTime']);
    const complete = newRS && updated === replicas && total === replicas && available === replicas && specReplicas(newRS) === replicas && all.every((rs) => rs === newRS || rs.metadata.uid === newRS.metadata.uid || specReplicas(rs) === 0);
    if (complete && !live.spec?.paused) {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${newRS!.metadata.name}" has successfully progressed.` }, now, ['lastUpdateTime']);
    } else if (newRS && !live.spec?.paused) {
      conditions = this.checkDeadline(live, conditions, newRS, available, updated, now);
    }
    const status: Obj = omitEmpty({
      observedGeneration: live.metadata.generation,
      replicas: total,
      updatedReplicas: updated,
      readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, replicas - available),
      collisionCount: live.status?.collisionCount,
    });
    status.conditions = orderConditions(conditions);
    if (JSON.stringify(status) === JSON.stringify(live.status)) return;
    const upd = structuredClone(live);
    upd.status = status;
    await this.cluster.rest.update(this.res.deployments, d.metadata.namespace, d.metadata.name, upd, {}, 'status');
  }
}

/** Available before Progressing, as the controller appends them on a new Deployment. */
function orderConditions(cs: Obj[]): Obj[] {
  const rank = (t: string) => (t === 'Available' ? 0 : t === 'Progressing' ? 1 : 2);
  return [...cs].sort((a, b) => rank(a.type) - rank(b.type));
}

export { isPodActive };
