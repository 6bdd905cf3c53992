/** discovery.k8s.io/v1 EndpointSlice (written by the endpointslice controller). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/merge-schema.js';
import { endpointSlicePrinter } from '../../printers/builtin.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import type { Strategy } from '../../resource.js';

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
