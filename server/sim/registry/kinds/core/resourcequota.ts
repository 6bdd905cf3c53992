/** core/v1 ResourceQuota (stored and printed; no admission enforces it). */
import type { KindDefinition } from '../../kind.js';
import { resourceQuotaPrinter } from '../../printers/builtin.js';
import { metaOnly } from '../../strategies/generic.js';

export const resourceQuotaKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  names: { plural: 'resourcequotas', shortNames: ['quota'] },
  scope: 'Namespaced',
  strategy: metaOnly('subdomain', true),
  subresources: { status: true },
  printer: resourceQuotaPrinter,
};
