/** apps/v1 ReplicaSet. */
import type { KindDefinition } from '../../kind.js';
import { conditions, struct } from '../../patch/merge-schema.js';
import { validateImmutable, validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodTemplate } from '../../strategies/pod-spec.js';
import { nonNegative, templateErrors, validateSelectorAndTemplate } from '../../strategies/workloads.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, containersCol, imagesCol, int, layoutContainerCells, name, nameCol, selectorCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { formatLabelSelector } from '../../printers/labels.js';

type Obj = Record<string, any>;

export const replicaSetStrategy: Strategy = {
  generation: true,
  prepareForCreate(obj) {
    (obj as Obj).status = { replicas: 0 };
  },
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.replicas ??= 1;
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const o = obj as Obj;
    return [...validateObjectMeta(obj, 'subdomain', true), ...nonNegative(o, ['spec', 'replicas'], 'spec.replicas'), ...validateSelectorAndTemplate(o, true), ...templateErrors(o)];
  },
  validateUpdate(obj, old) {
    return validateImmutable(obj, old, [{ path: ['spec', 'selector'], field: 'spec.selector' }]);
  },
};

export const replicaSetPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('Selector is a label query over pods that should match the replica count.'),
  ],
  cells: (o: Any, now) => {
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    return [name(o), int(o.spec?.replicas ?? 1), int(o.status?.replicas), int(o.status?.readyReplicas), age(o, now), names, images, formatLabelSelector(o.spec?.selector)];
  },
};

export const replicaSetKind: KindDefinition = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  names: { plural: 'replicasets', shortNames: ['rs'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: replicaSetStrategy,
  subresources: { status: true, scale: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ selector: 'LabelSelector', template: 'PodTemplateSpec' }),
    status: struct({ conditions: conditions() }),
  }),
  zeroPaths: ['metadata', 'spec', 'spec.template', 'spec.template.metadata', 'spec.template.spec', 'spec.template.spec.containers', 'status'],
  printer: replicaSetPrinter,
};
