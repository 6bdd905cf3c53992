/**
 * The StatefulSet controller, for the simple cases: pods `<name>-0 … <name>-(n-1)` with stable
 * hostnames, created in order (each waits for the previous to be Running and Ready unless
 * podManagementPolicy is Parallel), removed from the highest ordinal down, and replaced from the
 * highest ordinal down when the template changes. Volume claim templates need storage the embedded
 * cluster does not have: such a StatefulSet reports FailedCreate instead of pretending.
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { isPodReady, isPodAvailable, omitEmpty, writeStatus, type Obj, type Resources } from './kit.js';
import { WorkloadController } from './workload.js';
import { podFromTemplate } from './replicaset.js';
import { podTemplateHash } from './deployment.js';

const SOURCE = { component: 'statefulset-controller' };
const REVISION = 'controller-revision-hash';

export class StatefulSetController extends WorkloadController {
  constructor(cluster: ClusterApi, res: Resources, events: ClusterEvents) {
    super(cluster, res, events, res.statefulSets, 'StatefulSet');
  }

  protected async sync(key: string): Promise<void> {
    const sts = this.current(key);
    if (!sts) return;
    const name: string = sts.metadata.name;
    const revision = `${name}-${podTemplateHash(sts.spec.template).slice(0, 10)}`;
    const replicas = sts.spec.replicas ?? 1;
    const parallel = sts.spec.podManagementPolicy === 'Parallel';
    const pods = new Map<number, Obj>();
    for (const p of this.ownedPods(sts)) {
      const m = new RegExp(`^${name.replace(/[.]/g, '\\.')}-(\\d+)$`).exec(p.metadata.name);
      if (m) pods.set(Number(m[1]), p);
    }
    const healthy = (p: Obj | undefined) => !!p && !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && isPodReady(p);
    if ((sts.spec.volumeClaimTemplates ?? []).length) {
      this.events.warning(sts as KubeObject, 'FailedCreate', `create Pod ${name}-0 in StatefulSet ${name} failed error: PersistentVolumeClaims (volumeClaimTemplates) are not supported by the embedded cluster`, SOURCE);
      await this.updateStatus(sts, revision);
      return;
    }
    // Scale up in order.
    for (let i = 0; i < replicas; i++) {
      const p = pods.get(i);
      if (p && p.status?.phase === 'Failed' && !p.metadata.deletionTimestamp) {
        await this.deletePod(sts, p);
        if (!parallel) break;
        continue;
      }
      if (!p) {
        await this.createPod(sts, i, revision);
        if (!parallel) break;
        continue;
      }
      if (!parallel && !healthy(p)) break;
    }
    // Scale down from the top, one at a time unless Parallel.
    const extra = [...pods.keys()].filter((i) => i >= replicas).sort((a, b) => b - a);
    for (const i of extra) {
      const p = pods.get(i)!;
      if (p.metadata.deletionTimestamp) {
        if (!parallel) break;
        continue;
      }
      await this.deletePod(sts, p);
      if (!parallel) break;
    }
    // Rolling update from the highest ordinal, only while everything else is healthy.
    if ((sts.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && extra.length === 0) {
      const partition = sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
      const all = [...Array(replicas).keys()].map((i) => pods.get(i));
      if (all.every(healthy)) {
        for (let i = replicas - 1; i >= partition; i--) {
          const p = pods.get(i)!;
          if (p.metadata.labels?.[REVISION] !== revision) {
            await this.deletePod(sts, p);
            break;
          }
        }
      }
    }
    await this.updateStatus(sts, revision);
  }

  private async createPod(sts: Obj, ordinal: number, revision: string): Promise<void> {
    const name = `${sts.metadata.name}-${ordinal}`;
    const pod = podFromTemplate(sts as KubeObject, sts.spec.template, { [REVISION]: revision, 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(ordinal) });
    delete pod.metadata.generateName;
    pod.metadata.name = name;
    pod.spec.hostname = name;
    if (sts.spec.serviceName) pod.spec.subdomain = sts.spec.serviceName;
    const created = await this.submitPod(pod);
    if (created) this.events.normal(sts as KubeObject, 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${sts.metadata.name} successful`, SOURCE);
  }

  private async deletePod(sts: Obj, p: Obj): Promise<void> {
    const r = await this.removePod(p);
    if (r) this.events.normal(sts as KubeObject, 'SuccessfulDelete', `delete Pod ${p.metadata.name} in StatefulSet ${sts.metadata.name} successful`, SOURCE);
  }

  private async updateStatus(sts: Obj, revision: string): Promise<void> {
    const live = this.cluster.store.get(this.res.statefulSets.bucket, sts.metadata.namespace, sts.metadata.name);
    if (!live) return;
    const pods = this.ownedPods(sts).filter((p) => !p.metadata.deletionTimestamp);
    const now = Date.now();
    const updated = pods.filter((p) => p.metadata.labels?.[REVISION] === revision).length;
    const prevCurrent = (live as Obj).status?.currentRevision ?? revision;
    const allUpdated = updated === pods.length && pods.length === (sts.spec.replicas ?? 1);
    const currentRevision = allUpdated ? revision : prevCurrent;
    const status = omitEmpty({
      observedGeneration: live.metadata.generation,
      replicas: pods.length,
      readyReplicas: pods.filter(isPodReady).length,
      currentReplicas: pods.filter((p) => p.metadata.labels?.[REVISION] === currentRevision).length,
      updatedReplicas: updated,
      availableReplicas: pods.filter((p) => isPodAvailable(p, sts.spec.minReadySeconds ?? 0, now)).length,
    }) as Obj;
    status.replicas = pods.length;
    status.availableReplicas = status.availableReplicas ?? 0;
    status.currentRevision = currentRevision;
    status.updateRevision = revision;
    status.collisionCount = 0;
    await writeStatus(this.cluster, this.res.statefulSets, this.cluster.rest.present(this.res.statefulSets, live), status);
  }
}
