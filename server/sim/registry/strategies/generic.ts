/** Strategy building blocks for kinds whose rules are only generic ones. */
import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import type { Strategy } from '../resource.js';
import { validateImmutable, validateLabels, validateObjectMeta, type NameRule } from './meta.js';

type Obj = Record<string, any>;

/** Kinds whose only rules are object-metadata ones. */
export function metaOnly(rule: NameRule, namespaced: boolean, extra?: Partial<Strategy>): Strategy {
  return {
    ...extra,
    validate(obj, ctx) {
      return [...validateObjectMeta(obj, rule, namespaced), ...(extra?.validate?.(obj, ctx) ?? [])];
    },
  };
}













/** Kinds with a spec whose generation follows spec changes, otherwise only metadata rules. */
export function specKind(rule: NameRule, namespaced: boolean, extra?: Partial<Strategy>): Strategy {
  return { generation: true, ...metaOnly(rule, namespaced, extra) };
}

export function requireFields(fields: string[][]): (obj: KubeObject) => FieldError[] {
  return (obj) => {
    const errs: FieldError[] = [];
    for (const path of fields) {
      let cur: any = obj;
      for (const p of path) cur = cur?.[p];
      if (cur === undefined || cur === null || cur === '') errs.push({ type: 'FieldValueRequired', field: path.join('.') });
    }
    return errs;
  };
}
