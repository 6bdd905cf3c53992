/** apps/v1 Deployment. */
import type { KindDefinition } from '../../kind.js';
import { conditions, struct } from '../../patch/schema.js';
import { deploymentPrinter } from '../../printers/builtin.js';
import { deploymentStrategy } from '../../strategies/workloads.js';

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
