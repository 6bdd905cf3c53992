/** coordination.k8s.io/v1 Lease. */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/merge-schema.js';
import { leasePrinter } from '../../printers/builtin.js';
import { metaOnly } from '../../strategies/generic.js';

export const leaseKind: KindDefinition = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  names: { plural: 'leases' },
  scope: 'Namespaced',
  strategy: metaOnly('subdomain', true),
  storage: { allowCreateOnUpdate: true },
  mergeSchema: struct({ metadata: 'ObjectMeta' }),
  printer: leasePrinter,
};
