/** core/v1 ServiceAccount. */
import type { KindDefinition } from '../../kind.js';
import { atomicList, atomicStruct, keyedList, struct } from '../../patch/merge-schema.js';
import { metaOnly } from '../../strategies/generic.js';
import { age, ageCol, col, len, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

export const serviceAccountPrinter: KindPrinter = {
  columns: [nameCol(), col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), ageCol()],
  cells: (o: Any, now) => [name(o), len(o.secrets), age(o, now)],
};

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
