/** core/v1 PersistentVolumeClaim (stored and printed; nothing binds it). */
import type { KindDefinition } from '../../kind.js';
import { persistentVolumeClaimPrinter } from '../../printers/builtin.js';
import { specKind } from '../../strategies/generic.js';

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
