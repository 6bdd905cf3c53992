/** scheduling.k8s.io/v1 PriorityClass. */
import type { KindDefinition } from '../../kind.js';
import { metaOnly, requireFields } from '../../strategies/generic.js';
import { age, ageCol, col, int, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

export const priorityClassPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Value', 'integer', 'value represents the integer value of this priority class.'),
    col('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.'),
    ageCol(),
    col('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority.', 1),
  ],
  cells: (o: Any, now) => [name(o), int(o.value), o.globalDefault === true, age(o, now), o.preemptionPolicy ?? ''],
};

export const priorityClassKind: KindDefinition = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  names: { plural: 'priorityclasses', shortNames: ['pc'] },
  scope: 'Cluster',
  strategy: metaOnly('subdomain', false, { validate: requireFields([['value']]) }),
  printer: priorityClassPrinter,
};
