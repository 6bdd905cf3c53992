/**
 * networking.k8s.io/v1 NetworkPolicy (stored and printed; the pod network does not enforce it).
 * No status: NetworkPolicyStatus (KEP-2943, alpha in 1.24) was withdrawn and removed in 1.27.
 */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/merge-schema.js';
import { specKind } from '../../strategies/generic.js';
import { age, ageCol, col, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { formatLabelSelector } from '../../printers/labels.js';

export const networkPolicyPrinter: KindPrinter = {
  columns: [nameCol(), col('Pod-Selector', 'string', 'Selects the pods to which this NetworkPolicy object applies.'), ageCol()],
  cells: (o: Any, now) => [name(o), formatLabelSelector(o.spec?.podSelector ?? {}), age(o, now)],
};

export const networkPolicyKind: KindDefinition = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  names: { plural: 'networkpolicies', shortNames: ['netpol'] },
  scope: 'Namespaced',
  strategy: specKind('subdomain', true),
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ podSelector: 'LabelSelector', ingress: atomicList, egress: atomicList, policyTypes: atomicList }),
  }),
  zeroPaths: ['metadata', 'spec'],
  printer: networkPolicyPrinter,
};
