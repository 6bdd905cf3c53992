/** networking.k8s.io/v1 Ingress (stored and printed; no ingress controller runs). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/merge-schema.js';
import { ingressPrinter } from '../../printers/builtin.js';
import { specKind } from '../../strategies/generic.js';

export const ingressKind: KindDefinition = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  names: { plural: 'ingresses', shortNames: ['ing'] },
  scope: 'Namespaced',
  strategy: specKind('subdomain', true),
  subresources: { status: true },
  mergeSchema: struct({ metadata: 'ObjectMeta', spec: struct({ rules: atomicList, tls: atomicList }) }),
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: ingressPrinter,
};
