/** core/v1 Service: cluster IPs and node ports are allocated from the cluster's stored Services. */
import type { KindDefinition } from '../../kind.js';
import { createServiceAllocator } from '../../allocators.js';
import { atomicList, conditions, stringMap, struct } from '../../patch/schema.js';
import { servicePrinter } from '../../printers/builtin.js';
import { NO_COLLECTION_VERBS } from '../../resource.js';
import { serviceStrategy } from '../../strategies/core.js';

export const serviceKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Service',
  names: { plural: 'services', shortNames: ['svc'], categories: ['all'] },
  scope: 'Namespaced',
  verbs: NO_COLLECTION_VERBS,
  strategy: ({ store }) => serviceStrategy(createServiceAllocator(store)),
  subresources: { status: true, others: [{ name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }] },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({
      ports: {
        kind: 'list',
        items: struct({}),
        smp: 'merge',
        mergeKey: 'port',
        ssa: 'map',
        keys: ['port', 'protocol'],
        keyDefaults: { protocol: 'TCP' },
      },
      selector: stringMap({ atomic: true }),
      clusterIPs: atomicList,
      externalIPs: atomicList,
      ipFamilies: atomicList,
      loadBalancerSourceRanges: atomicList,
    }),
    status: struct({ conditions: conditions(), loadBalancer: struct({ ingress: atomicList }) }),
  }),
  zeroPaths: ['metadata', 'spec', 'status', 'status.loadBalancer'],
  printer: servicePrinter,
};
