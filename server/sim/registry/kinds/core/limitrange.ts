/** core/v1 LimitRange (stored and printed; no admission enforces it). */
import type { KindDefinition } from '../../kind.js';
import { metaOnly } from '../../strategies/generic.js';

export const limitRangeKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  names: { plural: 'limitranges', shortNames: ['limits'] },
  scope: 'Namespaced',
  strategy: metaOnly('subdomain', true),
  storage: { allowCreateOnUpdate: true },
};
