/** networking.k8s.io/v1 IngressClass. */
import type { KindDefinition } from '../../kind.js';
import { specKind } from '../../strategies/generic.js';
import { age, ageCol, col, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

export const ingressClassPrinter: KindPrinter = {
  columns: [nameCol(), col('Controller', 'string', 'Controller that is responsible for handling this class'), col('Parameters', 'string', 'A reference to a resource with additional parameters'), ageCol()],
  cells: (o: Any, now) => {
    const p = o.spec?.parameters;
    const params = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
    return [name(o), o.spec?.controller ?? '', params, age(o, now)];
  },
};

export const ingressClassKind: KindDefinition = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  names: { plural: 'ingressclasses' },
  scope: 'Cluster',
  strategy: specKind('subdomain', false),
  printer: ingressClassPrinter,
};
