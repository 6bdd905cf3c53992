/** core/v1 Node (registered by the simulated kubelets). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, conditions, keyedList, primitiveSet, stringMap, struct } from '../../patch/merge-schema.js';
import { nodePrinter } from '../../printers/builtin.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import type { Strategy } from '../../resource.js';

type Obj = Record<string, any>;

export const nodeStrategy: Strategy = {
  prepareForCreate(obj) {
    (obj as Obj).status ??= {};
  },
  validate(obj) {
    return validateObjectMeta(obj, 'subdomain', false);
  },
  fieldLabels(obj) {
    return { 'spec.unschedulable': String((obj as Obj).spec?.unschedulable ?? false) };
  },
};

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
