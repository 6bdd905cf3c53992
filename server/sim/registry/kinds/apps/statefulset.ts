/** apps/v1 StatefulSet. */
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, struct } from '../../patch/schema.js';
import { statefulSetPrinter } from '../../printers/builtin.js';
import { statefulSetStrategy } from '../../strategies/workloads.js';

export const statefulSetKind: KindDefinition = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  names: { plural: 'statefulsets', shortNames: ['sts'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: statefulSetStrategy,
  subresources: { status: true, scale: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({
      selector: 'LabelSelector',
      template: 'PodTemplateSpec',
      volumeClaimTemplates: atomicList,
      updateStrategy: struct({ rollingUpdate: struct({}) }),
    }),
    status: struct({ conditions: conditions() }),
  }),
  zeroPaths: ['metadata', 'spec', 'spec.template', 'spec.template.metadata', 'spec.template.spec', 'spec.template.spec.containers', 'status', 'spec.updateStrategy'],
  printer: statefulSetPrinter,
};
