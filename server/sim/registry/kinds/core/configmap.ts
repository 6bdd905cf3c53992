/** core/v1 ConfigMap. */
import type { KindDefinition } from '../../kind.js';
import { stringMap, struct } from '../../patch/schema.js';
import { configMapPrinter } from '../../printers/builtin.js';
import { configMapStrategy } from '../../strategies/core.js';

export const configMapKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  names: { plural: 'configmaps', shortNames: ['cm'] },
  scope: 'Namespaced',
  strategy: configMapStrategy,
  mergeSchema: struct({ metadata: 'ObjectMeta', data: stringMap(), binaryData: stringMap() }),
  printer: configMapPrinter,
};
