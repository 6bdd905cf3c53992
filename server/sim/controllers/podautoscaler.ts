/**
 * The HorizontalPodAutoscaler controller as kube-controller-manager runs it in a cluster without
 * a metrics server (the embedded cluster has none): every sync period it reads the target's Scale,
 * enforces minReplicas/maxReplicas, and otherwise fails to fetch metrics exactly as kube does
 * (ScalingActive=False, FailedGetResourceMetric / FailedComputeMetricsReplicas events, TARGETS
 * `<unknown>`). Syncs are paced on the cluster's clock: an HPA is first looked at one period
 * after it is created (the controller's rate-limited queue), then once per period.
 */
import type { ClusterApi, ClusterEvents } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import type { ResourceDef } from '../registry/resource.js';
import { ApiError } from '../errors.js';
import { Informer, InformerController, nowISO, nsKey, setCondition, splitKey, writeStatus, type Obj, type Resources } from './kit.js';

const SOURCE = { component: 'horizontal-pod-autoscaler' };
/** --horizontal-pod-autoscaler-sync-period. */
export const HPA_SYNC_PERIOD_MS = 15_000;

const RESOURCE_API_ERR = 'unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)';
const CUSTOM_API_ERR = 'unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered';
const EXTERNAL_API_ERR = 'unable to fetch metrics from external metrics API: no external metrics API (external.metrics.k8s.io) registered';

interface MetricFailure {
  /** The condition reason and event reason. */
  reason: string;
  /** What the event and the ScalingActive condition say. */
  inner: string;
  /** What FailedComputeMetricsReplicas quotes as the first error. */
  outer: string;
}

/** How fetching one metric fails without the metrics APIs (computeReplicasForMetric's errors). */
function metricFailure(m: Obj): MetricFailure {
  switch (m?.type) {
    case 'Resource':
    case 'ContainerResource': {
      const src = m.type === 'Resource' ? m.resource : m.containerResource;
      const name = src?.name;
      const util = src?.target?.type === 'Utilization' || src?.target?.averageUtilization != null;
      const inner = `failed to get ${name} ${util ? 'utilization' : 'usage'}: unable to get metrics for resource ${name}: ${RESOURCE_API_ERR}`;
      return m.type === 'Resource'
        ? { reason: 'FailedGetResourceMetric', inner, outer: `failed to get ${name} resource metric value: ${inner}` }
        : { reason: 'FailedGetContainerResourceMetric', inner, outer: `failed to get ${name} container metric value: ${inner}` };
    }
    case 'Pods': {
      const inner = `unable to get metric ${m.pods?.metric?.name}: ${CUSTOM_API_ERR}`;
      return { reason: 'FailedGetPodsMetric', inner, outer: `failed to get pods metric value: ${inner}` };
    }
    case 'Object': {
      const d = m.object?.describedObject ?? {};
      const inner = `unable to get metric ${m.object?.metric?.name}: ${d.kind} on ${d.name}/${CUSTOM_API_ERR}`;
      return { reason: 'FailedGetObjectMetric', inner, outer: `failed to get object metric value: ${inner}` };
    }
    case 'External': {
      const inner = `unable to get external metric ${m.external?.metric?.name}: ${EXTERNAL_API_ERR}`;
      return { reason: 'FailedGetExternalMetric', inner, outer: `failed to get external metric value: ${inner}` };
    }
    default: {
      const inner = `unknown metric source type "${m?.type ?? ''}"`;
      return { reason: 'InvalidMetricSourceType', inner, outer: inner };
    }
  }
}

export class HorizontalPodAutoscalerController extends InformerController {
  protected readonly informer: Informer;
  private readonly wakeups = new Map<string, () => void>();

  constructor(
    private readonly cluster: ClusterApi,
    private readonly res: Resources,
    private readonly events: ClusterEvents,
  ) {
    super();
    // Every add or change waits for the period; one pending sync per HPA (later requests are dropped).
    this.informer = new Informer(cluster, [res.hpas.bucket], (e) => {
      if (e.type !== 'DELETED') this.schedule(nsKey(e.object));
      return undefined;
    }, (key) => this.sync(key));
  }

  override stop(): void {
    for (const cancel of this.wakeups.values()) cancel();
    this.wakeups.clear();
    super.stop();
  }

  private schedule(key: string): void {
    if (this.wakeups.has(key)) return;
    this.wakeups.set(key, this.cluster.clock.after(HPA_SYNC_PERIOD_MS, () => {
      this.wakeups.delete(key);
      this.informer.add(key);
    }));
  }

  /** The target's resource (the controller's RESTMapper), or kube's error for it. */
  private targetDef(ref: Obj): ResourceDef {
    const [group, version] = String(ref.apiVersion ?? '').includes('/') ? String(ref.apiVersion).split('/') : ['', String(ref.apiVersion ?? '')];
    const def = this.cluster.kinds.lookup(group!, version!, `${String(ref.kind ?? '').toLowerCase()}s`);
    if (!def || def.kind !== ref.kind) throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
    if (!def.scale) throw new Error(`${def.resource}${def.group ? `.${def.group}` : ''} "${ref.name}" not found`);
    return def;
  }

  private async sync(key: string): Promise<void> {
    const [ns, name] = splitKey(key);
    const stored = this.cluster.store.get(this.res.hpas.bucket, ns, name);
    if (!stored || stored.metadata.deletionTimestamp) return;
    this.schedule(key);
    const hpa = this.cluster.rest.present(this.res.hpas, stored) as Obj;
    const spec = hpa.spec ?? {};
    const ref = spec.scaleTargetRef ?? {};
    const now = nowISO(this.cluster.clock.now());
    const status: Obj = structuredClone(hpa.status ?? {});
    let conditions: Obj[] = status.conditions ?? [];
    const cond = (type: string, st: string, reason: string, message: string) => {
      conditions = setCondition(conditions, { type, status: st, reason, message }, now);
    };
    const save = async () => {
      status.conditions = conditions;
      await writeStatus(this.cluster, this.res.hpas, hpa as KubeObject, status);
    };

    let def: ResourceDef;
    let scale: Obj;
    try {
      def = this.targetDef(ref);
      scale = this.cluster.rest.scale(def, this.cluster.rest.get(def, ns, ref.name)) as Obj;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.events.warning(hpa as KubeObject, 'FailedGetScale', message, SOURCE);
      cond('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${message}`);
      return save();
    }
    cond('AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const current: number = scale.spec?.replicas ?? 0;
    const min: number = spec.minReplicas ?? 1;
    const max: number = spec.maxReplicas;
    let desired = 0;
    let reason = '';
    let rescale = true;
    if (current === 0 && min !== 0) {
      rescale = false;
      cond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (current > max) {
      reason = 'Current number of replicas above Spec.MaxReplicas';
      desired = max;
    } else if (current < min) {
      reason = 'Current number of replicas below Spec.MinReplicas';
      desired = min;
    } else {
      // No metrics API answers: every metric is invalid, which stops the sync here.
      const metrics: Obj[] = spec.metrics ?? [];
      const failures = metrics.map(metricFailure);
      for (const f of failures) this.events.warning(hpa as KubeObject, f.reason, f.inner, SOURCE);
      const first = failures[0];
      if (first) {
        cond('ScalingActive', 'False', first.reason, `the HPA was unable to compute the replica count: ${first.inner}`);
        status.currentReplicas = current;
        status.currentMetrics = metrics.map(() => ({ type: '' }));
        status.desiredReplicas ??= 0;
        await save();
        this.events.warning(hpa as KubeObject, 'FailedComputeMetricsReplicas', `invalid metrics (${failures.length} invalid out of ${metrics.length}), first error is: ${first.outer}`, SOURCE);
        return;
      }
      rescale = false;
    }
    if (rescale) {
      try {
        await this.cluster.rest.updateScale(def, ns, ref.name, { body: { ...scale, spec: { replicas: desired } } }, { fieldManager: 'kube-controller-manager' });
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        this.events.warning(hpa as KubeObject, 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${e.message}`, SOURCE);
        cond('AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${e.message}`);
        status.currentReplicas = current;
        return save();
      }
      cond('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      this.events.normal(hpa as KubeObject, 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`, SOURCE);
      status.lastScaleTime = now;
    } else {
      desired = current;
    }
    status.currentReplicas = current;
    status.desiredReplicas = desired;
    delete status.currentMetrics;
    await save();
  }
}
