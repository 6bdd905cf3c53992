/** batch/v1 CronJob. */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/merge-schema.js';
import { cronJobPrinter } from '../../printers/builtin.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodTemplate, validatePodSpec } from '../../strategies/pod-spec.js';
import { freshStatus } from '../../strategies/workloads.js';
import type { Strategy } from '../../resource.js';

type Obj = Record<string, any>;

export const cronJobStrategy: Strategy = {
  generation: true,
  prepareForCreate: freshStatus,
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.concurrencyPolicy ??= 'Allow';
    s.suspend ??= false;
    s.successfulJobsHistoryLimit ??= 3;
    s.failedJobsHistoryLimit ??= 1;
    s.jobTemplate ??= {};
    s.jobTemplate.metadata ??= {};
    if (s.jobTemplate.metadata.creationTimestamp === undefined) s.jobTemplate.metadata.creationTimestamp = null;
    const js = (s.jobTemplate.spec ??= {});
    js.backoffLimit ??= 6;
    js.completionMode ??= 'NonIndexed';
    js.suspend ??= false;
    js.podReplacementPolicy ??= 'TerminatingOrFailed';
    defaultPodTemplate(js.template);
  },
  validate(obj) {
    const o = obj as Obj;
    const errs = validateObjectMeta(obj, 'subdomain', true);
    if (!o.spec?.schedule) errs.push({ type: 'FieldValueRequired', field: 'spec.schedule' });
    else if (String(o.spec.schedule).trim().split(/\s+/).length !== 5 && !String(o.spec.schedule).startsWith('@')) {
      errs.push({ type: 'FieldValueInvalid', field: 'spec.schedule', value: o.spec.schedule, detail: `expected exactly 5 fields, found ${String(o.spec.schedule).trim().split(/\s+/).length}: ${o.spec.schedule}` });
    }
    const tpl = o.spec?.jobTemplate?.spec?.template;
    errs.push(...validatePodSpec(tpl?.spec, 'spec.jobTemplate.spec.template.spec'));
    return errs;
  },
};

export const cronJobKind: KindDefinition = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  names: { plural: 'cronjobs', shortNames: ['cj'], categories: ['all'] },
  scope: 'Namespaced',
  strategy: cronJobStrategy,
  subresources: { status: true },
  mergeSchema: struct({
    metadata: 'ObjectMeta',
    spec: struct({ jobTemplate: struct({ metadata: 'ObjectMeta', spec: 'JobSpec' }) }),
    status: struct({ active: atomicList }),
  }),
  zeroPaths: ['metadata', 'spec', 'status'],
  printer: cronJobPrinter,
};
