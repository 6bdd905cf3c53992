/** events.k8s.io/v1 Event: the core Events, with renamed fields (strategies/events.ts). */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/schema.js';
import { eventsV1EventPrinter } from '../../printers/builtin.js';
import { metaOnly } from '../../strategies/core.js';
import { eventsV1Conversion } from '../../strategies/events.js';

export const eventsV1EventKind: KindDefinition = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  names: { plural: 'events', shortNames: ['ev'] },
  scope: 'Namespaced',
  strategy: metaOnly('subdomain', true),
  storage: { sharedWith: { group: '', resource: 'events' }, convert: eventsV1Conversion, allowCreateOnUpdate: true },
  mergeSchema: struct({ metadata: 'ObjectMeta' }),
  printer: eventsV1EventPrinter,
};
