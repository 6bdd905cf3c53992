/** core/v1 PodTemplate. */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/merge-schema.js';
import { podTemplatePrinter } from '../../printers/builtin.js';
import { metaOnly } from '../../strategies/generic.js';

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
