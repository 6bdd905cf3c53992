/** discovery.k8s.io/v1 EndpointSlice (written by the endpointslice controller). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/schema.js';
import { endpointSlicePrinter } from '../../printers/builtin.js';
import { endpointSliceStrategy } from '../../strategies/core.js';

export const endpointSliceKind: KindDefinition = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  names: { plural: 'endpointslices' },
  scope: 'Namespaced',
  strategy: endpointSliceStrategy,
  mergeSchema: struct({ metadata: 'ObjectMeta', endpoints: atomicList, ports: atomicList }),
  printer: endpointSlicePrinter,
};
