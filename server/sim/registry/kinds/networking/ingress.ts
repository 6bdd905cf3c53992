/** networking.k8s.io/v1 Ingress (stored and printed; no ingress controller runs). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/merge-schema.js';
import { specKind } from '../../strategies/generic.js';
import { age, ageCol, col, loadBalancerStatus, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

export const ingressPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    col('Ports', 'string', 'Ports of TLS configurations that open'),
    ageCol(),
  ],
  cells: (o: Any, now) => {
    const rules: Any[] = o.spec?.rules ?? [];
    const hosts: string[] = [];
    let more = false;
    for (const r of rules) {
      if (hosts.length === 3) more = true;
      if (!more && r.host) hosts.push(r.host);
    }
    const hostText = hosts.length === 0 ? '*' : more ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
    return [name(o), o.spec?.ingressClassName ?? '<none>', hostText, loadBalancerStatus(o.status?.loadBalancer), (o.spec?.tls ?? []).length ? '80, 443' : '80', age(o, now)];
  },
};

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
