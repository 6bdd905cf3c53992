/** core/v1 PodTemplate. */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/merge-schema.js';
import { metaOnly } from '../../strategies/generic.js';
import { col, containersCol, imagesCol, layoutContainerCells, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { formatLabels } from '../../printers/labels.js';

export const podTemplatePrinter: KindPrinter = {
  columns: [nameCol(), containersCol(0), imagesCol(0), col('Pod Labels', 'string', 'The labels for the pod template.')],
  cells: (o: Any) => {
    const [names, images] = layoutContainerCells(o.template?.spec?.containers);
    return [name(o), names, images, formatLabels(o.template?.metadata?.labels)];
  },
};

export const podTemplateKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  names: { plural: 'podtemplates' },
  scope: 'Namespaced',
  strategy: metaOnly('subdomain', true),
  mergeSchema: struct({ metadata: 'ObjectMeta', template: 'PodTemplateSpec' }),
  printer: podTemplatePrinter,
};
