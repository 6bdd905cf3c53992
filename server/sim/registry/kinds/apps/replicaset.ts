/** apps/v1 ReplicaSet. */
import type { KindDefinition } from '../../kind.js';
import { conditions, struct } from '../../patch/merge-schema.js';
import { replicaSetPrinter } from '../../printers/builtin.js';
import { validateImmutable, validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodTemplate } from '../../strategies/pod-spec.js';
import { nonNegative, templateErrors, validateSelectorAndTemplate } from '../../strategies/workloads.js';
import type { Strategy } from '../../resource.js';

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
