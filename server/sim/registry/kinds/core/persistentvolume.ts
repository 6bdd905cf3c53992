/** core/v1 PersistentVolume (stored and printed; nothing provisions or binds it). */
import type { KindDefinition } from '../../kind.js';
import { persistentVolumePrinter } from '../../printers/builtin.js';
import { specKind } from '../../strategies/generic.js';

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
