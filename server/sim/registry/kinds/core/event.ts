/** core/v1 Event; events.k8s.io/v1 serves the same objects (kinds/events/event.ts). */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/schema.js';
import { eventPrinter } from '../../printers/builtin.js';
import { eventStrategy } from '../../strategies/core.js';

export const eventKind: KindDefinition = {
  group: '',
  version: 'v1',
  kind: 'Event',
  names: { plural: 'events', shortNames: ['ev'] },
  scope: 'Namespaced',
  strategy: eventStrategy,
  storage: { allowCreateOnUpdate: true },
  mergeSchema: struct({ metadata: 'ObjectMeta' }),
  printer: eventPrinter,
};
