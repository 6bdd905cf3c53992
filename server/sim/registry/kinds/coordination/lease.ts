/** coordination.k8s.io/v1 Lease. */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/merge-schema.js';
import { metaOnly } from '../../strategies/generic.js';
import { age, ageCol, col, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

export const leasePrinter: KindPrinter = {
  columns: [nameCol(), col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'), ageCol()],
  cells: (o: Any, now) => [name(o), o.spec?.holderIdentity ?? '', age(o, now)],
};

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
