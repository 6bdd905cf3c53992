/** apps/v1 DaemonSet. */
import type { KindDefinition } from '../../kind.js';
import { conditions, struct } from '../../patch/schema.js';
import { daemonSetPrinter } from '../../printers/builtin.js';
import { daemonSetStrategy } from '../../strategies/workloads.js';

export const daemonSetKind: KindDefinition = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  names: { plural: 'daemonsets', shortNames: ['ds'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: daemonSetStrategy,
  subresources: { status: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ selector: 'LabelSelector', template: 'PodTemplateSpec', updateStrategy: struct({ rollingUpdate: struct({}) }) }),
    status: struct({ conditions: conditions() }),
  }),
  zeroPaths: ['metadata', 'spec', 'spec.template', 'spec.template.metadata', 'spec.template.spec', 'spec.template.spec.containers', 'status', 'spec.updateStrategy'],
  printer: daemonSetPrinter,
};
