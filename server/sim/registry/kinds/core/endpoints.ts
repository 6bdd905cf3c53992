/** core/v1 Endpoints (written by the endpoints controller). */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/merge-schema.js';
import { metaOnly } from '../../strategies/generic.js';
import { age, ageCol, col, int, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

function formatEndpoints(ep: Any): string {
  const subsets: Any[] = ep.subsets ?? [];
  if (!subsets.length) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses: Any[] = ss.addresses ?? [];
    const ports: Any[] = ss.ports ?? [];
    if (!ports.length) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) { more = true; break; }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) { more = true; break; }
        list.push(joinHostPort(a.ip, int(port.port)));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

const joinHostPort = (host: string, port: number) => (String(host).includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

export const endpointsPrinter: KindPrinter = {
  columns: [nameCol(), col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), ageCol()],
  cells: (o, now) => [name(o), formatEndpoints(o), age(o, now)],
};

export const endpointsKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  names: { plural: 'endpoints', shortNames: ['ep'] },
  scope: 'Namespaced',
  strategy: metaOnly('subdomain', true),
  storage: { allowCreateOnUpdate: true },
  mergeSchema: struct({ metadata: 'ObjectMeta', subsets: atomicList }),
  printer: endpointsPrinter,
};
