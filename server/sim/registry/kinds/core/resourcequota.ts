/** core/v1 ResourceQuota (stored and printed; no admission enforces it). */
import type { KindDefinition } from '../../kind.js';
import { metaOnly } from '../../strategies/generic.js';
import { age, ageCol, col, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

export const resourceQuotaPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ageCol(),
  ],
  cells: (o: Any, now) => {
    const hard: Record<string, unknown> = o.status?.hard ?? {};
    const used: Record<string, unknown> = o.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const r of Object.keys(hard).sort()) {
      const text = `${r}: ${String(used[r] ?? '0')}/${String(hard[r])}`;
      (r.split('.').length > 1 && r.startsWith('limits.') ? limits : requests).push(text);
    }
    return [name(o), requests.join(', '), limits.join(', '), age(o, now)];
  },
};

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
