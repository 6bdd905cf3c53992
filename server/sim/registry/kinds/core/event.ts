/** core/v1 Event; events.k8s.io/v1 serves the same objects (kinds/events/event.ts). */
import type { KindDefinition } from '../../kind.js';
import { struct } from '../../patch/merge-schema.js';
import { eventPrinter } from '../../printers/builtin.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import type { Strategy } from '../../resource.js';

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
