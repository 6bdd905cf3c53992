/** storage.k8s.io/v1 StorageClass. */
import type { KindDefinition } from '../../kind.js';
import { storageClassPrinter } from '../../printers/builtin.js';
import { metaOnly, requireFields } from '../../strategies/generic.js';

export const storageClassKind: KindDefinition = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  names: { plural: 'storageclasses', shortNames: ['sc'] },
  scope: 'Cluster',
  strategy: metaOnly('subdomain', false, { validate: requireFields([['provisioner']]) }),
  printer: storageClassPrinter,
};
