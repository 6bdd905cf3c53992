/** scheduling.k8s.io/v1 PriorityClass. */
import type { KindDefinition } from '../../kind.js';
import { priorityClassPrinter } from '../../printers/builtin.js';
import { metaOnly, requireFields } from '../../strategies/generic.js';

export const priorityClassKind: KindDefinition = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  names: { plural: 'priorityclasses', shortNames: ['pc'] },
  scope: 'Cluster',
  strategy: metaOnly('subdomain', false, { validate: requireFields([['value']]) }),
  printer: priorityClassPrinter,
};
