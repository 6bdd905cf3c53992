/** What the workload kinds' strategies share: selector matching and pod template validation. */
import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { goStringMap, validateImmutable, validateLabels, validateObjectMeta } from './meta.js';
import { validatePodSpec } from './pod-spec.js';

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

export function validateSelectorAndTemplate(o: Obj, requireSelector: boolean): FieldError[] {
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

export function nonNegative(o: Obj, path: string[], field: string): FieldError[] {
  let v: any = o;
  for (const p of path) v = v?.[p];
  if (typeof v === 'number' && v < 0) return [{ type: 'FieldValueInvalid', field, value: v, detail: 'must be greater than or equal to 0' }];
  return [];
}

export function templateErrors(o: Obj, allowedRestart: string[] = ['Always']): FieldError[] {
  const tpl = o.spec?.template;
  if (!tpl) return [{ type: 'FieldValueRequired', field: 'spec.template' }];
  const errs = validatePodSpec(tpl.spec, 'spec.template.spec');
  const rp = tpl.spec?.restartPolicy;
  if (rp !== undefined && !allowedRestart.includes(rp)) {
    errs.push({ type: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', value: rp, supported: allowedRestart });
  }
  return errs;
}

/** A new object of a workload kind starts with an empty status. */
export const freshStatus = (obj: KubeObject) => {
  (obj as Obj).status = {};
};






