/** networking.k8s.io/v1 IngressClass. */
import type { KindDefinition } from '../../kind.js';
import { ingressClassPrinter } from '../../printers/builtin.js';
import { specKind } from '../../strategies/generic.js';

export const ingressClassKind: KindDefinition = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  names: { plural: 'ingressclasses' },
  scope: 'Cluster',
  strategy: specKind('subdomain', false),
  printer: ingressClassPrinter,
};
