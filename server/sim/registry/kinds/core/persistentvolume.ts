/** core/v1 PersistentVolume (stored and printed; nothing provisions or binds it). */
import type { KindDefinition } from '../../kind.js';
import { specKind } from '../../strategies/generic.js';
import { accessModes, age, ageCol, col, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

export const persistentVolumePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Capacity', 'string', 'capacity is the description of the persistent volume\'s resources and capacity.'),
    col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
    col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    col('StorageClass', 'string', 'StorageClass of the pv'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    ageCol(),
    col('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', 1),
  ],
  cells: (o: Any, now) => {
    const spec = o.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    const phase = o.metadata?.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '';
    const storageClass = spec.storageClassName ?? o.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
    return [name(o), String(spec.capacity?.storage ?? '0'), accessModes(spec.accessModes), spec.persistentVolumeReclaimPolicy ?? '', phase, claim, storageClass, spec.volumeAttributesClassName ?? '<unset>', o.status?.reason ?? '', age(o, now), spec.volumeMode ?? '<unset>'];
  },
};

export const persistentVolumeKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  names: { plural: 'persistentvolumes', shortNames: ['pv'] },
  scope: 'Cluster',
  strategy: specKind('subdomain', false),
  subresources: { status: true },
  printer: persistentVolumePrinter,
};
