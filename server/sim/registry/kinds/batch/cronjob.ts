/** batch/v1 CronJob. */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/schema.js';
import { cronJobPrinter } from '../../printers/builtin.js';
import { cronJobStrategy } from '../../strategies/workloads.js';

export const cronJobKind: KindDefinition = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  names: { plural: 'cronjobs', shortNames: ['cj'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: cronJobStrategy,
  subresources: { status: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ jobTemplate: struct({ metadata: 'ObjectMeta', spec: 'JobSpec' }) }),
    status: struct({ active: atomicList }),
  }),
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: cronJobPrinter,
};
