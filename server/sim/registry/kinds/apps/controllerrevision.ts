/** apps/v1 ControllerRevision (written by the DaemonSet and StatefulSet controllers). */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/merge-schema.js';
import { metaOnly } from '../../strategies/generic.js';
import { age, ageCol, col, int, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';

export const controllerRevisionPrinter: KindPrinter = {
  columns: [nameCol(), col('Controller', 'string', 'Controller of the object'), col('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'), ageCol()],
  cells: (o: Any, now) => {
    const ref = (o.metadata?.ownerReferences ?? []).find((r: Any) => r.controller);
    let controller = '<none>';
    if (ref) {
      const group = String(ref.apiVersion ?? '').includes('/') ? String(ref.apiVersion).split('/')[0] : '';
      controller = `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
    }
    return [name(o), controller, int(o.revision), age(o, now)];
  },
};

export const controllerRevisionKind: KindDefinition = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  names: { plural: 'controllerrevisions' },
  scope: 'Namespaced',
  strategy: metaOnly('subdomain', true),
  mergeSchema: struct({ metadata: 'ObjectMeta' }),
  printer: controllerRevisionPrinter,
};
