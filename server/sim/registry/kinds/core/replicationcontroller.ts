/** core/v1 ReplicationController: validated as a ReplicaSet is. */
import type { KindDefinition } from '../../kind.js';
import { replicaSetStrategy } from '../apps/replicaset.js';
import { age, ageCol, col, containersCol, imagesCol, int, layoutContainerCells, name, nameCol, selectorCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { formatLabels } from '../../printers/labels.js';

export const replicationControllerPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('Selector is a label query over pods that should match the Replicas count.'),
  ],
  cells: (o: Any, now) => {
    const [names, images] = layoutContainerCells(o.spec?.template?.spec?.containers);
    return [name(o), int(o.spec?.replicas ?? 1), int(o.status?.replicas), int(o.status?.readyReplicas), age(o, now), names, images, formatLabels(o.spec?.selector)];
  },
};

export const replicationControllerKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  names: { plural: 'replicationcontrollers', shortNames: ['rc'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: replicaSetStrategy,
  subresources: { status: true, scale: true },
  printer: replicationControllerPrinter,
};
