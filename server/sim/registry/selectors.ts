/** Label and field selectors as `?labelSelector=` / `?fieldSelector=` carry them (apimachinery's labels/fields). */
import { ApiError } from '../errors.js';
import type { KubeObject } from '../types.js';

type Op = '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';
interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

export type Matcher = (labels: Record<string, string>) => boolean;

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

function parseRequirement(raw: string): Requirement {
  let m: RegExpMatchArray | null;
  if ((m = raw.match(/^!\s*([^\s!=<>(),]+)$/))) return { key: m[1], op: '!', values: [] };
  if ((m = raw.match(/^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
    return { key: m[1], op: m[2] as Op, values: m[3].split(',').map((v) => v.trim()) };
  }
  if ((m = raw.match(/^([^\s!=<>(),]+)\s*(==|=|!=)\s*([^\s!=<>(),]*)$/))) return { key: m[1], op: m[2] === '!=' ? '!=' : '=', values: [m[3]] };
  if ((m = raw.match(/^([^\s!=<>(),]+)\s*(>|<)\s*(-?\d+)$/))) return { key: m[1], op: m[2] === '>' ? 'gt' : 'lt', values: [m[3]] };
  if ((m = raw.match(/^([^\s!=<>(),]+)$/))) return { key: m[1], op: 'exists', values: [] };
  throw ApiError.badRequest(`unable to parse requirement: found '${raw}', expected: ',' or 'end of string'`);
}

export function parseLabelSelector(selector: string | null | undefined): Matcher | undefined {
  if (!selector || !selector.trim()) return undefined;
  const reqs = splitTop(selector).map(parseRequirement);
  return (labels) =>
    reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case '=':
          return has && v === r.values[0];
        case '!=':
          return !has || v !== r.values[0];
        case 'in':
          return has && r.values.includes(v);
        case 'notin':
          return !has || !r.values.includes(v);
        case 'exists':
          return has;
        case '!':
          return !has;
        case 'gt':
          return has && Number(v) > Number(r.values[0]);
        case 'lt':
          return has && Number(v) < Number(r.values[0]);
      }
    });
}

export type FieldMatcher = (obj: KubeObject) => boolean;

/**
 * Field selectors support only `=`, `==` and `!=` over the fields the kind declares;
 * anything else is refused as kube-apiserver refuses it.
 */
export function parseFieldSelector(
  selector: string | null | undefined,
  fieldsOf: (obj: KubeObject) => Record<string, string>,
  supported: Set<string>,
  isCustom: boolean,
): FieldMatcher | undefined {
  if (!selector || !selector.trim()) return undefined;
  const reqs = selector.split(',').map((raw) => {
    const m = raw.trim().match(/^([^!=]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw ApiError.badRequest(`invalid selector: '${selector}'; can't understand '${raw}'`);
    const key = m[1].trim();
    if (!supported.has(key)) {
      throw ApiError.badRequest(isCustom ? `"${key}" is not a known field selector: only "metadata.name", "metadata.namespace"` : `field label not supported: ${key}`);
    }
    return { key, neg: m[2] === '!=', value: m[3].trim() };
  });
  return (obj) => {
    const fields = fieldsOf(obj);
    return reqs.every((r) => ((fields[r.key] ?? '') === r.value) !== r.neg);
  };
}
