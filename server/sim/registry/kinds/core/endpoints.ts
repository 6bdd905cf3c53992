/** core/v1 Endpoints (written by the endpoints controller). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/merge-schema.js';
import { endpointsPrinter } from '../../printers/builtin.js';
import { metaOnly } from '../../strategies/generic.js';

export const endpointsKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  names: { plural: 'endpoints', shortNames: ['ep'] },
  scope: 'Namespaced',
  strategy: metaOnly('subdomain', true),
  storage: { allowCreateOnUpdate: true },
  mergeSchema: struct({ metadata: 'ObjectMeta', subsets: atomicList }),
  printer: endpointsPrinter,
};
