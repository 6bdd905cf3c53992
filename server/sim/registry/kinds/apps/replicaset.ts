/** apps/v1 ReplicaSet. */
import type { KindDefinition } from '../../kind.js';
import { conditions, struct } from '../../patch/schema.js';
import { replicaSetPrinter } from '../../printers/builtin.js';
import { replicaSetStrategy } from '../../strategies/workloads.js';

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
