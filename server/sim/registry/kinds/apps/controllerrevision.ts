/** apps/v1 ControllerRevision (written by the DaemonSet and StatefulSet controllers). */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/merge-schema.js';
import { controllerRevisionPrinter } from '../../printers/builtin.js';
import { metaOnly } from '../../strategies/generic.js';

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
