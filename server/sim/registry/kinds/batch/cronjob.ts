/** batch/v1 CronJob. */
import type { KindDefinition } from '../../kind.js';
import { atomicList, struct } from '../../patch/merge-schema.js';
import { validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodTemplate, validatePodSpec } from '../../strategies/pod-spec.js';
import { freshStatus } from '../../strategies/workloads.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, containersCol, imagesCol, layoutContainerCells, len, name, nameCol, selectorCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { since } from '../../printers/duration.js';
import { formatLabelSelector } from '../../printers/labels.js';
import { isTimeZone, parseSchedule } from '../../../time/cron.js';

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
    const schedule = o.spec?.schedule;
    if (!schedule) errs.push({ type: 'FieldValueRequired', field: 'spec.schedule' });
    else {
      try {
        parseSchedule(String(schedule));
      } catch (e) {
        errs.push({ type: 'FieldValueInvalid', field: 'spec.schedule', value: schedule, detail: (e as Error).message });
      }
      if (String(schedule).includes('TZ')) errs.push({ type: 'FieldValueInvalid', field: 'spec.schedule', value: schedule, detail: 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead' });
    }
    const tz = o.spec?.timeZone;
    if (tz != null) {
      if (tz === '') errs.push({ type: 'FieldValueInvalid', field: 'spec.timeZone', value: tz, detail: 'timeZone must be nil or non-empty string' });
      else if (String(tz).toLowerCase() === 'local') errs.push({ type: 'FieldValueInvalid', field: 'spec.timeZone', value: tz, detail: 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones' });
      else if (!isTimeZone(String(tz))) errs.push({ type: 'FieldValueInvalid', field: 'spec.timeZone', value: tz, detail: `unknown time zone ${tz}` });
    }
    const tpl = o.spec?.jobTemplate?.spec?.template;
    errs.push(...validatePodSpec(tpl?.spec, 'spec.jobTemplate.spec.template.spec'));
    return errs;
  },
};

const boolText = (v: unknown) => (v == null ? '<unset>' : v ? 'True' : 'False');

function cronJobCells(cj: Any, now: Date): unknown[] {
  const spec = cj.spec ?? {};
  const last = cj.status?.lastScheduleTime ? since(cj.status.lastScheduleTime, now) : '<none>';
  const jobSpec = spec.jobTemplate?.spec ?? {};
  const [names, images] = layoutContainerCells(jobSpec.template?.spec?.containers);
  return [name(cj), spec.schedule ?? '', spec.timeZone ?? '<none>', boolText(spec.suspend), len(cj.status?.active), last, age(cj, now), names, images, formatLabelSelector(jobSpec.selector)];
}

export const cronJobPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    col('Timezone', 'string', 'The time zone name for the given schedule.'),
    col('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.'),
    col('Active', 'integer', 'A list of pointers to currently running jobs.'),
    col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('A label query over pods that should match the pod count.'),
  ],
  cells: (o, now) => cronJobCells(o, now),
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
