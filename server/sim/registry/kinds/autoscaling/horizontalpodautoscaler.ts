/**
 * autoscaling HorizontalPodAutoscaler: stored as v2 (preferred); v1, what `kubectl autoscale`
 * sends, is converted at the store boundary: CPU target ↔ a Resource cpu Utilization metric.
 */
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, struct } from '../../patch/merge-schema.js';
import { horizontalPodAutoscalerPrinter } from '../../printers/builtin.js';
import type { KubeObject } from '../../../types.js';
import { requireFields, specKind } from '../../strategies/generic.js';
import type { Strategy } from '../../resource.js';

const common: Omit<KindDefinition, 'version' | 'strategy'> = {
  group: 'autoscaling',
  kind: 'HorizontalPodAutoscaler',
  names: { plural: 'horizontalpodautoscalers', shortNames: ['hpa'], categories: ['all'] },
  scope: 'Namespaced',
  subresources: { status: true },
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: horizontalPodAutoscalerPrinter,
};

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

export const hpaV1Conversion = {
  toStorage(o: KubeObject): KubeObject {
    const out = structuredClone(o) as Obj;
    out.apiVersion = 'autoscaling/v2';
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
      delete out.status.currentMetrics;
      delete out.status.conditions;
      if (cur?.resource?.current?.averageUtilization !== undefined) out.status.currentCPUUtilizationPercentage = cur.resource.current.averageUtilization;
    }
    return out as KubeObject;
  },
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
