/** apps/v1 Deployment. */
import type { KindDefinition } from '../../kind.js';
import { conditions, struct } from '../../patch/merge-schema.js';
import { validateImmutable, validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodTemplate } from '../../strategies/pod-spec.js';
import { freshStatus, nonNegative, templateErrors, validateSelectorAndTemplate } from '../../strategies/workloads.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, containersCol, imagesCol, int, layoutContainerCells, name, nameCol, selectorCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { selectorString } from '../../printers/labels.js';

type Obj = Record<string, any>;

export const deploymentStrategy: Strategy = {
  generation: true,
  prepareForCreate: freshStatus,
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.replicas ??= 1;
    s.strategy ??= {};
    s.strategy.type ??= 'RollingUpdate';
    if (s.strategy.type === 'RollingUpdate') {
      s.strategy.rollingUpdate ??= {};
      s.strategy.rollingUpdate.maxUnavailable ??= '25%';
      s.strategy.rollingUpdate.maxSurge ??= '25%';
    }
    s.revisionHistoryLimit ??= 10;
    s.progressDeadlineSeconds ??= 600;
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const o = obj as Obj;
    return [
      ...validateObjectMeta(obj, 'subdomain', true),
      ...nonNegative(o, ['spec', 'replicas'], 'spec.replicas'),
      ...validateSelectorAndTemplate(o, true),
      ...templateErrors(o),
      ...(o.spec?.strategy?.type && !['Recreate', 'RollingUpdate'].includes(o.spec.strategy.type)
        ? [{ type: 'FieldValueNotSupported' as const, field: 'spec.strategy.type', value: o.spec.strategy.type, supported: ['Recreate', 'RollingUpdate'] }]
        : []),
    ];
  },
  validateUpdate(obj, old) {
    return validateImmutable(obj, old, [{ path: ['spec', 'selector'], field: 'spec.selector' }]);
  },
};

export const deploymentPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Ready', 'string', 'Number of the pod with ready state'),
    col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'),
  ],
  cells: (o: Any, now) => {
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    const desired = o.spec?.replicas ?? 1;
    return [name(o), `${int(o.status?.readyReplicas)}/${int(desired)}`, int(o.status?.updatedReplicas), int(o.status?.availableReplicas), age(o, now), names, images, selectorString(o.spec?.selector)];
  },
};

export const deploymentKind: KindDefinition = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  names: { plural: 'deployments', shortNames: ['deploy'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: deploymentStrategy,
  subresources: { status: true, scale: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({
      selector: 'LabelSelector',
      template: 'PodTemplateSpec',
      strategy: struct({ rollingUpdate: struct({}) }, { retainKeys: true }),
    }),
    status: struct({ conditions: conditions() }),
  }),
  zeroPaths: ['metadata', 'spec', 'spec.template', 'spec.template.metadata', 'spec.template.spec', 'spec.template.spec.containers', 'status', 'spec.strategy'],
  printer: deploymentPrinter,
};
