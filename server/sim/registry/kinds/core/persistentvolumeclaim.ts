/** core/v1 PersistentVolumeClaim (stored and printed; nothing binds it). */
import type { KindDefinition } from '../../kind.js';
import { specKind } from '../../strategies/generic.js';
import { accessModes, age, ageCol, col, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

export const persistentVolumeClaimPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
    col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
    col('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has.'),
    col('StorageClass', 'string', 'StorageClass of the pvc'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    ageCol(),
    col('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim.', 1),
  ],
  cells: (o: Any, now) => {
    const phase = o.metadata?.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '';
    const bound = !!o.spec?.volumeName;
    const modes = bound ? accessModes(o.status?.accessModes) : '';
    const capacity = bound ? String(o.status?.capacity?.storage ?? '') : '';
    const storageClass = o.spec?.storageClassName ?? o.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
    return [name(o), phase, o.spec?.volumeName ?? '', capacity, modes, storageClass, o.spec?.volumeAttributesClassName ?? '<unset>', age(o, now), o.spec?.volumeMode ?? '<unset>'];
  },
};

export const persistentVolumeClaimKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  names: { plural: 'persistentvolumeclaims', shortNames: ['pvc'] },
  scope: 'Namespaced',
  strategy: specKind('subdomain', true),
  subresources: { status: true },
  printer: persistentVolumeClaimPrinter,
};
