/** core/v1 Event; events.k8s.io/v1 serves the same objects (kinds/events/event.ts). */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/merge-schema.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import type { Strategy } from '../../resource.js';
import { col, int, name, nameCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { since } from '../../printers/duration.js';

type Obj = Record<string, any>;

export const eventStrategy: Strategy = {
  validate(obj) {
    const o = obj as Obj;
    const errs = validateObjectMeta(obj, 'subdomain', true);
    const involved = o.involvedObject ?? o.regarding;
    if (o.apiVersion === 'v1' && involved?.namespace && involved.namespace !== o.metadata.namespace) {
      errs.push({ type: 'FieldValueInvalid', field: 'involvedObject.namespace', value: involved.namespace, detail: 'does not match event.namespace' });
    }
    return errs;
  },
  fieldLabels(obj) {
    const o = obj as Obj;
    const io = o.involvedObject ?? {};
    return {
      'involvedObject.kind': io.kind ?? '',
      'involvedObject.namespace': io.namespace ?? '',
      'involvedObject.name': io.name ?? '',
      'involvedObject.uid': io.uid ?? '',
      'involvedObject.apiVersion': io.apiVersion ?? '',
      'involvedObject.resourceVersion': io.resourceVersion ?? '',
      'involvedObject.fieldPath': io.fieldPath ?? '',
      reason: o.reason ?? '',
      reportingComponent: o.reportingComponent ?? '',
      source: o.source?.component ?? '',
      type: o.type ?? '',
    };
  },
};

export function eventCells(ev: Any, now: Date): unknown[] {
  let firstTimestamp = since(ev.firstTimestamp, now);
  if (!ev.firstTimestamp) firstTimestamp = since(ev.eventTime, now);
  let lastTimestamp = since(ev.lastTimestamp, now);
  if (!ev.lastTimestamp) lastTimestamp = firstTimestamp;
  let count = int(ev.count);
  if (ev.series) {
    lastTimestamp = since(ev.series.lastObservedTime, now);
    count = int(ev.series.count);
  } else if (count === 0) {
    count = 1;
  }
  const involved = ev.involvedObject ?? {};
  const kind = String(involved.kind ?? '').toLowerCase();
  const target = involved.name ? `${kind}/${involved.name}` : kind;
  const component = ev.source?.component || ev.reportingComponent || '';
  const host = ev.source?.host || ev.reportingInstance || '';
  const source = host ? `${component}, ${host}` : component;
  return [lastTimestamp, ev.type ?? '', ev.reason ?? '', target, involved.fieldPath ?? '', source, String(ev.message ?? '').trim(), firstTimestamp, count, name(ev)];
}

export const eventPrinter: KindPrinter = {
  columns: [
    col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col('Object', 'string', 'The object that this event is about.'),
    col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', 1),
    col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
    col('Count', 'string', 'The number of times this event has occurred.', 1),
    nameCol(1),
  ],
  cells: (o, now) => eventCells(o, now),
};

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
