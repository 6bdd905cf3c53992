/** storage.k8s.io/v1 StorageClass. */
import type { KindDefinition } from '../../kind.js';
import { metaOnly, requireFields } from '../../strategies/generic.js';
import { age, ageCol, col, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

export const storageClassPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
    col('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
    col('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
    col('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    ageCol(),
  ],
  cells: (o: Any, now) => {
    const annotations = o.metadata?.annotations ?? {};
    const isDefault = annotations['storageclass.kubernetes.io/is-default-class'] === 'true' || annotations['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
    return [isDefault ? `${name(o)} (default)` : name(o), o.provisioner ?? '', o.reclaimPolicy ?? 'Delete', o.volumeBindingMode ?? 'Immediate', o.allowVolumeExpansion === true, age(o, now)];
  },
};

export const storageClassKind: KindDefinition = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  names: { plural: 'storageclasses', shortNames: ['sc'] },
  scope: 'Cluster',
  strategy: metaOnly('subdomain', false, { validate: requireFields([['provisioner']]) }),
  printer: storageClassPrinter,
};
