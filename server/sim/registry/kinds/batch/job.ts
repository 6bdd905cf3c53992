/** batch/v1 Job. */
import type { KindDefinition } from '../../kind.js';
import { conditions, struct } from '../../patch/merge-schema.js';
import { validateImmutable, validateObjectMeta } from '../../strategies/meta.js';
import { defaultPodTemplate, validatePodSpec } from '../../strategies/pod-spec.js';
import { nonNegative } from '../../strategies/workloads.js';
import type { Strategy } from '../../resource.js';
import { age, ageCol, col, containersCol, imagesCol, int, layoutContainerCells, name, nameCol, selectorCol, type Any, type KindPrinter } from '../../printers/columns.js';
import { humanDuration } from '../../printers/duration.js';
import { formatLabelSelector } from '../../printers/labels.js';

type Obj = Record<string, any>;

export const jobStrategy: Strategy = {
  generation: true,
  prepareForCreate(obj) {
    const o = obj as Obj;
    o.status = {};
    // The job controller's selector: kube generates it from the Job's uid unless manualSelector.
    const uid = o.metadata.uid as string;
    const s = (o.spec ??= {});
    if (!s.manualSelector) {
      s.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
      s.template ??= {};
      s.template.metadata ??= {};
      s.template.metadata.labels = {
        ...(s.template.metadata.labels ?? {}),
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': o.metadata.name,
        'controller-uid': uid,
        'job-name': o.metadata.name,
      };
      o.metadata.labels = {
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': o.metadata.name,
        'controller-uid': uid,
        'job-name': o.metadata.name,
        ...(o.metadata.labels ?? {}),
      };
    }
  },
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.parallelism ??= 1;
    if (s.completions === undefined && s.completionMode !== 'Indexed') s.completions = s.parallelism === 1 ? 1 : s.completions;
    s.completions ??= 1;
    s.backoffLimit ??= 6;
    s.completionMode ??= 'NonIndexed';
    s.suspend ??= false;
    s.manualSelector ??= undefined;
    s.podReplacementPolicy ??= 'TerminatingOrFailed';
    if (s.manualSelector === undefined) delete s.manualSelector;
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const o = obj as Obj;
    const errs = [...validateObjectMeta(obj, 'subdomain', true), ...nonNegative(o, ['spec', 'parallelism'], 'spec.parallelism'), ...nonNegative(o, ['spec', 'backoffLimit'], 'spec.backoffLimit')];
    const tpl = o.spec?.template;
    if (!tpl) return [...errs, { type: 'FieldValueRequired', field: 'spec.template' }];
    errs.push(...validatePodSpec(tpl.spec, 'spec.template.spec'));
    const rp = tpl.spec?.restartPolicy;
    if (rp !== 'OnFailure' && rp !== 'Never') {
      errs.push(
        rp === 'Always'
          ? { type: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', value: rp, supported: ['OnFailure', 'Never'] }
          : { type: 'FieldValueRequired', field: 'spec.template.spec.restartPolicy', detail: 'valid values: "OnFailure", "Never"' },
      );
    }
    return errs;
  },
  validateUpdate(obj, old) {
    return validateImmutable(obj, old, [
      { path: ['spec', 'selector'], field: 'spec.selector' },
      { path: ['spec', 'completions'], field: 'spec.completions' },
    ]);
  },
};

function jobCells(job: Any, now: Date): unknown[] {
  const spec = job.spec ?? {};
  const st = job.status ?? {};
  const succeeded = int(st.succeeded);
  let completions: string;
  if (spec.completions != null) {
    completions = `${succeeded}/${int(spec.completions)}`;
  } else {
    const parallelism = int(spec.parallelism);
    completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
  }
  let duration = '';
  if (st.startTime) {
    const start = Date.parse(st.startTime);
    duration = st.completionTime ? humanDuration(Date.parse(st.completionTime) - start) : humanDuration(now.getTime() - start);
  }
  const has = (type: string) => {
    const c = (st.conditions ?? []).find((x: Any) => x.type === type);
    return c?.status === 'True';
  };
  let status = 'Running';
  if (has('Complete')) status = 'Complete';
  else if (has('Failed')) status = 'Failed';
  else if (job.metadata?.deletionTimestamp) status = 'Terminating';
  else if (has('Suspended')) status = 'Suspended';
  else if (has('FailureTarget')) status = 'FailureTarget';
  const [names, images] = layoutContainerCells(spec.template?.spec?.containers);
  return [name(job), status, completions, duration, age(job, now), names, images, formatLabelSelector(spec.selector)];
}

export const jobPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Status', 'string', 'Status of the job.'),
    col('Completions', 'string', 'The number of pods which reached phase Succeeded.'),
    col('Duration', 'string', 'Time required to complete the job.'),
    ageCol(), containersCol(), imagesCol(),
    selectorCol('A label query over pods that should match the pod count.'),
  ],
  cells: (o, now) => jobCells(o, now),
};

export const jobKind: KindDefinition = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  names: { plural: 'jobs', categories: ['all'] },
  scope: 'Namespaced',
  strategy: jobStrategy,
  subresources: { status: true },
  mergeSchema: struct({ metadata: 'ObjectMeta', spec: 'JobSpec', status: struct({ conditions: conditions('atomic') }) }),
  zeroPaths: ['metadata', 'spec', 'spec.template', 'spec.template.metadata', 'spec.template.spec', 'spec.template.spec.containers', 'status'],
  printer: jobPrinter,
};
