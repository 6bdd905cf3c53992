/** apps/v1 and batch/v1 workloads: defaults and the validation users run into. */
import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import type { Strategy } from '../resource.js';
import { goStringMap, validateImmutable, validateLabels, validateObjectMeta } from './meta.js';
import { defaultPodTemplate, validatePodSpec } from './pod.js';

type Obj = Record<string, any>;

/** Whether a LabelSelector selects the given labels (matchLabels + matchExpressions). */
export function selectorMatches(sel: Obj | undefined, labels: Record<string, string> = {}): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const vals: string[] = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !vals.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function validateSelectorAndTemplate(o: Obj, requireSelector: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const sel = o.spec?.selector;
  const tplLabels = o.spec?.template?.metadata?.labels;
  const empty = !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
  if (requireSelector && !sel) errs.push({ type: 'FieldValueRequired', field: 'spec.selector' });
  else if (sel && empty) errs.push({ type: 'FieldValueInvalid', field: 'spec.selector', value: undefined, detail: `${goSelector(sel)}: empty selector is invalid for deployment` });
  if (sel) errs.push(...validateLabels(sel.matchLabels, 'spec.selector.matchLabels'));
  errs.push(...validateLabels(tplLabels, 'spec.template.metadata.labels'));
  if (!empty || !sel) {
    if (!selectorMatches(sel ?? {}, tplLabels ?? {}) || (!sel && requireSelector)) {
      errs.push({
        type: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        detail: `${goStringMap(tplLabels)}: \`selector\` does not match template \`labels\``,
      });
    }
  }
  return errs;
}

function goSelector(sel: Obj): string {
  return `v1.LabelSelector{MatchLabels:${goStringMap(sel.matchLabels)}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`;
}

function nonNegative(o: Obj, path: string[], field: string): FieldError[] {
  let v: any = o;
  for (const p of path) v = v?.[p];
  if (typeof v === 'number' && v < 0) return [{ type: 'FieldValueInvalid', field, value: v, detail: 'must be greater than or equal to 0' }];
  return [];
}

function templateErrors(o: Obj, allowedRestart: string[] = ['Always']): FieldError[] {
  const tpl = o.spec?.template;
  if (!tpl) return [{ type: 'FieldValueRequired', field: 'spec.template' }];
  const errs = validatePodSpec(tpl.spec, 'spec.template.spec');
  const rp = tpl.spec?.restartPolicy;
  if (rp !== undefined && !allowedRestart.includes(rp)) {
    errs.push({ type: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', value: rp, supported: allowedRestart });
  }
  return errs;
}

const freshStatus = (obj: KubeObject) => {
  (obj as Obj).status = {};
};

export const deploymentStrategy: Strategy = {
  generation: true,
  prepareForCreate: freshStatus,
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.replicas ??= 1;
    s.strategy ??= {};
    s.strategy.type ??= 'RollingUpdate';
    if (s.strategy.type === 'RollingUpdate') {
      s.strategy.rollingUpdate ??= {};
      s.strategy.rollingUpdate.maxUnavailable ??= '25%';
      s.strategy.rollingUpdate.maxSurge ??= '25%';
    }
    s.revisionHistoryLimit ??= 10;
    s.progressDeadlineSeconds ??= 600;
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const o = obj as Obj;
    return [
      ...validateObjectMeta(obj, 'subdomain', true),
      ...nonNegative(o, ['spec', 'replicas'], 'spec.replicas'),
      ...validateSelectorAndTemplate(o, true),
      ...templateErrors(o),
      ...(o.spec?.strategy?.type && !['Recreate', 'RollingUpdate'].includes(o.spec.strategy.type)
        ? [{ type: 'FieldValueNotSupported' as const, field: 'spec.strategy.type', value: o.spec.strategy.type, supported: ['Recreate', 'RollingUpdate'] }]
        : []),
    ];
  },
  validateUpdate(obj, old) {
    return validateImmutable(obj, old, [{ path: ['spec', 'selector'], field: 'spec.selector' }]);
  },
};

export const replicaSetStrategy: Strategy = {
  generation: true,
  prepareForCreate(obj) {
    (obj as Obj).status = { replicas: 0 };
  },
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.replicas ??= 1;
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const o = obj as Obj;
    return [...validateObjectMeta(obj, 'subdomain', true), ...nonNegative(o, ['spec', 'replicas'], 'spec.replicas'), ...validateSelectorAndTemplate(o, true), ...templateErrors(o)];
  },
  validateUpdate(obj, old) {
    return validateImmutable(obj, old, [{ path: ['spec', 'selector'], field: 'spec.selector' }]);
  },
};

export const daemonSetStrategy: Strategy = {
  generation: true,
  prepareForCreate(obj) {
    (obj as Obj).status = { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
  },
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.updateStrategy ??= {};
    s.updateStrategy.type ??= 'RollingUpdate';
    if (s.updateStrategy.type === 'RollingUpdate') {
      s.updateStrategy.rollingUpdate ??= {};
      s.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
      s.updateStrategy.rollingUpdate.maxSurge ??= 0;
    }
    s.revisionHistoryLimit ??= 10;
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const o = obj as Obj;
    return [...validateObjectMeta(obj, 'subdomain', true), ...validateSelectorAndTemplate(o, true), ...templateErrors(o)];
  },
  validateUpdate(obj, old) {
    return validateImmutable(obj, old, [{ path: ['spec', 'selector'], field: 'spec.selector' }]);
  },
};

export const statefulSetStrategy: Strategy = {
  generation: true,
  prepareForCreate(obj) {
    (obj as Obj).status = { replicas: 0, availableReplicas: 0 };
  },
  defaults(obj) {
    const s = ((obj as Obj).spec ??= {});
    s.replicas ??= 1;
    s.podManagementPolicy ??= 'OrderedReady';
    s.updateStrategy ??= {};
    s.updateStrategy.type ??= 'RollingUpdate';
    if (s.updateStrategy.type === 'RollingUpdate') {
      s.updateStrategy.rollingUpdate ??= {};
      s.updateStrategy.rollingUpdate.partition ??= 0;
    }
    s.revisionHistoryLimit ??= 10;
    s.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const o = obj as Obj;
    return [...validateObjectMeta(obj, 'subdomain', true), ...nonNegative(o, ['spec', 'replicas'], 'spec.replicas'), ...validateSelectorAndTemplate(o, true), ...templateErrors(o)];
  },
  validateUpdate(obj, old) {
    // kube allows only a handful of StatefulSet spec fields to change.
    const strip = (x: Obj) => {
      const s = structuredClone(x.spec ?? {});
      for (const k of ['replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'ordinals', 'revisionHistoryLimit']) delete s[k];
      return JSON.stringify(s);
    };
    if (strip(obj as Obj) !== strip(old as Obj)) {
      return [
        {
          type: 'FieldValueForbidden',
          field: 'spec',
          detail:
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        },
      ];
    }
    return [];
  },
};

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
