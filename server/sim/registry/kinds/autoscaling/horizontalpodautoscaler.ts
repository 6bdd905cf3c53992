/**
 * autoscaling HorizontalPodAutoscaler: stored as v2 (preferred); v1, what `kubectl autoscale`
 * sends, is converted at the store boundary: CPU target ↔ a Resource cpu Utilization metric.
 */
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, struct } from '../../patch/merge-schema.js';
import type { KubeObject } from '../../../types.js';
import { requireFields, specKind } from '../../strategies/generic.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, int, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';


type Obj = Record<string, any>;

const cpuMetric = (pct: number) => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } } });

export const hpaV2Strategy: Strategy = specKind('subdomain', true, {
  validate: requireFields([['spec', 'scaleTargetRef', 'name'], ['spec', 'maxReplicas']]),
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.minReplicas ??= 1;
    if (!Array.isArray(s.metrics) || s.metrics.length === 0) s.metrics = [cpuMetric(80)];
  },
});

export const hpaV1Strategy: Strategy = specKind('subdomain', true, {
  validate: requireFields([['spec', 'scaleTargetRef', 'name'], ['spec', 'maxReplicas']]),
  defaults(obj) {
    (obj as Obj).spec ??= {};
    (obj as Obj).spec.minReplicas ??= 1;
  },
});

/** Where autoscaling/v1 keeps what it has no fields for (pkg/apis/autoscaling annotations). */
const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';

/** A v2 MetricStatus as v1's (the shape the current-metrics annotation carries). */
function v1MetricStatus(m: Obj): Obj {
  if (m?.type === 'Resource' && m.resource) {
    const cur = m.resource.current ?? {};
    return { type: 'Resource', resource: { name: m.resource.name, ...(cur.averageUtilization != null ? { currentAverageUtilization: cur.averageUtilization } : {}), currentAverageValue: cur.averageValue ?? '0' } };
  }
  return { type: m?.type ?? '' };
}

export const hpaV1Conversion = {
  toStorage(o: KubeObject): KubeObject {
    const out = structuredClone(o) as Obj;
    out.apiVersion = 'autoscaling/v2';
    // v1's annotations become fields again (a v1 read-modify-write sends them back).
    const ann = out.metadata?.annotations;
    if (ann && typeof ann === 'object') {
      const conds = ann[CONDITIONS_ANNOTATION];
      delete ann[CONDITIONS_ANNOTATION];
      delete ann[CURRENT_METRICS_ANNOTATION];
      if (typeof conds === 'string' && out.status && typeof out.status === 'object' && !out.status.conditions) {
        try {
          const parsed = JSON.parse(conds);
          if (Array.isArray(parsed)) out.status.conditions = parsed;
        } catch {
          // kube refuses an unparsable annotation on conversion; here the conditions are just not restored
        }
      }
      if (!Object.keys(ann).length) delete out.metadata.annotations;
    }
    const s = (out.spec ??= {});
    if (s.targetCPUUtilizationPercentage !== undefined) s.metrics = [cpuMetric(s.targetCPUUtilizationPercentage)];
    delete s.targetCPUUtilizationPercentage;
    if (out.status && typeof out.status === 'object') {
      const cur = out.status.currentCPUUtilizationPercentage;
      delete out.status.currentCPUUtilizationPercentage;
      if (cur !== undefined) out.status.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cur } } }];
    }
    return out as KubeObject;
  },
  fromStorage(o: KubeObject): KubeObject {
    const out = structuredClone(o) as Obj;
    const s = (out.spec ??= {});
    const cpu = (s.metrics ?? []).find((m: Obj) => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization');
    delete s.metrics;
    delete s.behavior;
    if (cpu) s.targetCPUUtilizationPercentage = cpu.resource.target.averageUtilization;
    if (out.status && typeof out.status === 'object') {
      const cur = (out.status.currentMetrics ?? []).find((m: Obj) => m?.type === 'Resource' && m.resource?.name === 'cpu');
      const metrics: Obj[] = out.status.currentMetrics ?? [];
      const conds: Obj[] = out.status.conditions ?? [];
      if (metrics.length || conds.length) out.metadata.annotations = { ...(out.metadata.annotations ?? {}) };
      if (metrics.length) out.metadata.annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(metrics.map(v1MetricStatus));
      // Go's field order: type, status, lastTransitionTime, reason, message.
      if (conds.length) out.metadata.annotations[CONDITIONS_ANNOTATION] = JSON.stringify(conds.map((c) => ({ type: c.type, status: c.status, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message })));
      delete out.status.currentMetrics;
      delete out.status.conditions;
      if (cur?.resource?.current?.averageUtilization !== undefined) out.status.currentCPUUtilizationPercentage = cur.resource.current.averageUtilization;
    }
    return out as KubeObject;
  },
};

function hpaMetrics(specs: Any[], statuses: Any[]): string {
  if (!specs.length) return '<none>';
  const list: string[] = [];
  const quantity = (q: unknown) => (q == null ? '<unknown>' : String(q));
  specs.forEach((spec, i) => {
    const st = statuses[i];
    switch (spec.type) {
      case 'Resource':
      case 'ContainerResource': {
        const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
        const cur = spec.type === 'Resource' ? st?.resource : st?.containerResource;
        if (src?.target?.averageValue != null) {
          list.push(`${src.name}: ${cur ? quantity(cur.current?.averageValue) : '<unknown>'}/${src.target.averageValue}`);
        } else {
          const current = cur?.current?.averageUtilization != null ? `${cur.current.averageUtilization}%` : '<unknown>';
          const target = src?.target?.averageUtilization != null ? `${src.target.averageUtilization}%` : '<auto>';
          list.push(`${src?.name}: ${current}/${target}`);
        }
        break;
      }
      case 'Pods':
        list.push(`${st?.pods ? quantity(st.pods.current?.averageValue) : '<unknown>'}/${spec.pods?.target?.averageValue}`);
        break;
      case 'Object':
      case 'External': {
        const src = spec.type === 'Object' ? spec.object : spec.external;
        const cur = spec.type === 'Object' ? st?.object : st?.external;
        if (src?.target?.averageValue != null) list.push(`${cur?.current?.averageValue != null ? cur.current.averageValue : '<unknown>'}/${src.target.averageValue} (avg)`);
        else list.push(`${cur ? quantity(cur.current?.value) : '<unknown>'}/${src?.target?.value}`);
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  if (list.length > 2) return `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...`;
  return list.join(', ');
}

function hpaCells(hpa: Any, now: Date): unknown[] {
  const spec = hpa.spec ?? {};
  const ref = spec.scaleTargetRef ?? {};
  let metrics: Any[] = spec.metrics ?? [];
  let statuses: Any[] = hpa.status?.currentMetrics ?? [];
  // autoscaling/v1 carries the CPU target as a field; the internal version converts it to a metric.
  if (hpa.apiVersion === 'autoscaling/v1') {
    metrics = spec.targetCPUUtilizationPercentage != null ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }] : [];
    statuses = hpa.status?.currentCPUUtilizationPercentage != null ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: hpa.status.currentCPUUtilizationPercentage } } }] : [];
  }
  return [name(hpa), `${ref.kind}/${ref.name}`, hpaMetrics(metrics, statuses), spec.minReplicas != null ? String(spec.minReplicas) : '<unset>', int(spec.maxReplicas), int(hpa.status?.currentReplicas), age(hpa, now)];
}

export const horizontalPodAutoscalerPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Reference', 'string', 'scaleTargetRef points to the target resource to scale.'),
    col('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count.'),
    col('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
    col('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
    col('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler.'),
    ageCol(),
  ],
  cells: (o, now) => hpaCells(o, now),
};

const common: Omit<KindDefinition, 'version' | 'strategy'> = {
  group: 'autoscaling',
  kind: 'HorizontalPodAutoscaler',
  names: { plural: 'horizontalpodautoscalers', shortNames: ['hpa'], categories: ['all'] },
  scope: 'Namespaced',
  subresources: { status: true },
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: horizontalPodAutoscalerPrinter,
};

export const horizontalPodAutoscalerV2Kind: KindDefinition = {
  ...common,
  version: 'v2',
  strategy: hpaV2Strategy,
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ metrics: atomicList }),
    status: struct({ conditions: conditions(), currentMetrics: atomicList }),
  }),
};

export const horizontalPodAutoscalerV1Kind: KindDefinition = {
  ...common,
  version: 'v1',
  preferred: false,
  strategy: hpaV1Strategy,
  // v1 has no lists (one CPU target instead of metrics, no conditions).
  mergeSchema: struct({ metadata: 'ObjectMeta' }),
  storage: { convert: hpaV1Conversion },
};
