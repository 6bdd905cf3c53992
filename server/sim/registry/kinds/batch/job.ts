/** batch/v1 Job. */
import type { KindDefinition } from '../../kind.js';
import { conditions, struct } from '../../patch/schema.js';
import { jobPrinter } from '../../printers/builtin.js';
import { jobStrategy } from '../../strategies/workloads.js';

export const jobKind: KindDefinition = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  names: { plural: 'jobs', categories: ['all'] },
  scope: 'Namespaced',
  strategy: jobStrategy,
  subresources: { status: true },
  mergeSchema: struct({ metadata: 'ObjectMeta', spec: 'JobSpec', status: struct({ conditions: conditions('atomic') }) }),
  zeroPaths: ['metadata', 'spec', 'spec.template', 'spec.template.metadata', 'spec.template.spec', 'spec.template.spec.containers', 'status'],
  printer: jobPrinter,
};
