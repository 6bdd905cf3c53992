/** core/v1 ReplicationController: validated as a ReplicaSet is. */
import type { KindDefinition } from '../../kind.js';
import { replicationControllerPrinter } from '../../printers/builtin.js';
import { replicaSetStrategy } from '../apps/replicaset.js';

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
