/** core/v1 Secret. */
import type { KindDefinition } from '../../kind.js';
import { stringMap, struct } from '../../patch/schema.js';
import { secretPrinter } from '../../printers/builtin.js';
import { secretStrategy } from '../../strategies/core.js';

export const secretKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  names: { plural: 'secrets' },
  scope: 'Namespaced',
  strategy: secretStrategy,
  mergeSchema: struct({ metadata: 'ObjectMeta', data: stringMap(), stringData: stringMap() }),
  printer: secretPrinter,
};
