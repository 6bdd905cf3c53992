/** core/v1 Node (registered by the simulated kubelets). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, keyedList, primitiveSet, stringMap, struct } from '../../patch/schema.js';
import { nodePrinter } from '../../printers/builtin.js';
import { nodeStrategy } from '../../strategies/core.js';

export const nodeKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Node',
  names: { plural: 'nodes', shortNames: ['no'] },
  scope: 'Cluster',
  strategy: nodeStrategy,
  subresources: { status: true, others: [{ name: 'proxy', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }] },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ podCIDRs: primitiveSet, taints: atomicList }),
    status: struct({
      conditions: conditions(),
      addresses: keyedList(struct({}), 'type'),
      capacity: stringMap(),
      allocatable: stringMap(),
      images: atomicList,
      volumesInUse: atomicList,
      volumesAttached: atomicList,
    }),
  }),
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: nodePrinter,
};
