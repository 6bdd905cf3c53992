/** discovery.k8s.io/v1 EndpointSlice (written by the endpointslice controller). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/merge-schema.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, int, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

type Obj = Record<string, any>;

export const endpointSliceStrategy: Strategy = {
  generation: true,
  validate(obj) {
    const o = obj as Obj;
    const errs = validateObjectMeta(obj, 'subdomain', true);
    if (!o.addressType) errs.push({ type: 'FieldValueRequired', field: 'addressType' });
    else if (!['IPv4', 'IPv6', 'FQDN'].includes(o.addressType)) errs.push({ type: 'FieldValueNotSupported', field: 'addressType', value: o.addressType, supported: ['FQDN', 'IPv4', 'IPv6'] });
    return errs;
  },
};

function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

function discoveryPorts(ports: Any[]): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const p of ports) {
    if (list.length < 3) list.push(p.port != null ? String(int(p.port)) : p.name != null ? String(p.name) : '*');
    else if (list.length === 3) more = true;
    count++;
  }
  return listWithMore(list, more, count, 3);
}

function discoveryEndpoints(endpoints: Any[]): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const e of endpoints) {
    for (const a of e.addresses ?? []) {
      if (list.length < 3) list.push(a);
      else if (list.length === 3) more = true;
      count++;
    }
  }
  return listWithMore(list, more, count, 3);
}

export const endpointSlicePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice.'),
    col('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'),
    ageCol(),
  ],
  cells: (o: Any, now) => [name(o), o.addressType ?? '', discoveryPorts(o.ports ?? []), discoveryEndpoints(o.endpoints ?? []), age(o, now)],
};

export const endpointSliceKind: KindDefinition = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  names: { plural: 'endpointslices' },
  scope: 'Namespaced',
  strategy: endpointSliceStrategy,
  mergeSchema: struct({ metadata: 'ObjectMeta', endpoints: atomicList, ports: atomicList }),
  printer: endpointSlicePrinter,
};
