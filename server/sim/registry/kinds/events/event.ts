/**
 * events.k8s.io/v1 Event: shares storage with core/v1 Events (as in kube-apiserver), the renamed
 * fields mapped at the store boundary (regarding ↔ involvedObject, note ↔ message, …).
 */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/merge-schema.js';
import { metaOnly } from '../../strategies/generic.js';
import type { KubeObject } from '../../../types.js';
import type { Any, KindPrinter } from '../../printers/columns.js';
import { eventCells, eventPrinter } from '../core/event.js';

type Obj = Record<string, any>;

const RENAMES: [eventsV1: string, coreV1: string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(o: KubeObject, apiVersion: string, pairs: [string, string][]): KubeObject {
  const out = structuredClone(o) as Obj;
  out.apiVersion = apiVersion;
  for (const [from, to] of pairs) {
    if (out[from] !== undefined) out[to] = out[from];
    delete out[from];
  }
  return out as KubeObject;
}

export const eventsV1Conversion = {
  toStorage: (o: KubeObject) => rename(o, 'v1', RENAMES),
  fromStorage: (o: KubeObject) => rename(o, 'events.k8s.io/v1', RENAMES.map(([a, b]) => [b, a])),
};

/** events.k8s.io/v1 Event → the core Event fields the printer reads (kube prints both alike). */
function coreEventOf(ev: Any): Any {
  return {
    metadata: ev.metadata,
    involvedObject: ev.regarding ?? {},
    reason: ev.reason,
    type: ev.type,
    message: ev.note,
    source: ev.deprecatedSource,
    firstTimestamp: ev.deprecatedFirstTimestamp,
    lastTimestamp: ev.deprecatedLastTimestamp,
    count: ev.deprecatedCount,
    eventTime: ev.eventTime,
    series: ev.series ? { count: ev.series.count, lastObservedTime: ev.series.lastObservedTime } : undefined,
    reportingComponent: ev.reportingController,
    reportingInstance: ev.reportingInstance,
  };
}

/** events.k8s.io/v1 Events print as core Events do, with their renamed fields mapped back. */
export const eventsV1EventPrinter: KindPrinter = {
  columns: eventPrinter.columns,
  cells: (o, now) => eventCells(coreEventOf(o), now),
};

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
