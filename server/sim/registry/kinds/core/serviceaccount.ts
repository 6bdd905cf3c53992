/** core/v1 ServiceAccount. */
import type { KindDefinition } from '../../kind.js';
import { atomicList, atomicStruct, keyedList, struct } from '../../patch/merge-schema.js';
import { serviceAccountPrinter } from '../../printers/builtin.js';
import { metaOnly } from '../../strategies/generic.js';

export const serviceAccountKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  names: { plural: 'serviceaccounts', shortNames: ['sa'] },
  scope: 'Namespaced',
  strategy: metaOnly('subdomain', true),
  subresources: { others: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }] },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    secrets: keyedList(atomicStruct, 'name'),
    imagePullSecrets: atomicList,
  }),
  printer: serviceAccountPrinter,
};
