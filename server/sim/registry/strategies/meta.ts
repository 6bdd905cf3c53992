/** Object-metadata validation shared by every kind (apimachinery's ValidateObjectMeta). */
import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
export const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

export type NameRule = 'subdomain' | 'label' | 'dns1035' | 'path' | 'none';

export function nameProblems(name: string, rule: NameRule): string[] {
  switch (rule) {
    case 'subdomain':
      return [...(name.length > 253 ? ['must be no more than 253 characters'] : []), ...(DNS1123_SUBDOMAIN.test(name) ? [] : [SUBDOMAIN_MSG])];
    case 'label':
      return [...(name.length > 63 ? ['must be no more than 63 characters'] : []), ...(DNS1123_LABEL.test(name) ? [] : [LABEL_MSG])];
    case 'dns1035':
      return [...(name.length > 63 ? ['must be no more than 63 characters'] : []), ...(DNS1035_LABEL.test(name) ? [] : [DNS1035_MSG])];
    case 'path':
      if (name === '.' || name === '..') return [`may not be '${name}'`];
      if (name.includes('/')) return [`may not contain '/'`];
      if (name.includes('%')) return [`may not contain '%'`];
      return [];
    default:
      return [];
  }
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QN_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LV_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

export function qualifiedNameProblems(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) return [`a qualified name ${QN_MSG.replace('name part ', '')}`];
  const name = parts[parts.length - 1];
  const out: string[] = [];
  if (parts.length === 2 && !DNS1123_SUBDOMAIN.test(parts[0])) out.push(`prefix part ${SUBDOMAIN_MSG}`);
  if (!name) out.push('name part must be non-empty');
  else if (name.length > 63) out.push('name part must be no more than 63 characters');
  else if (!QUALIFIED_NAME.test(name)) out.push(QN_MSG);
  return out;
}

export function validateLabels(labels: unknown, field: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object' || Array.isArray(labels)) return [{ type: 'FieldValueTypeInvalid', field, detail: 'must be a map of strings' }];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const p of qualifiedNameProblems(k)) errs.push({ type: 'FieldValueInvalid', field, value: k, detail: p });
    if (typeof v !== 'string') continue;
    if (v.length > 63) errs.push({ type: 'FieldValueInvalid', field, value: v, detail: 'must be no more than 63 characters' });
    else if (!LABEL_VALUE.test(v)) errs.push({ type: 'FieldValueInvalid', field, value: v, detail: LV_MSG });
  }
  return errs;
}

export function validateObjectMeta(obj: KubeObject, rule: NameRule, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const m = obj.metadata;
  if (!m.name) {
    errs.push({ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' });
  } else {
    for (const p of nameProblems(m.name, rule)) errs.push({ type: 'FieldValueInvalid', field: 'metadata.name', value: m.name, detail: p });
  }
  if (namespaced && !m.namespace) errs.push({ type: 'FieldValueRequired', field: 'metadata.namespace' });
  if (!namespaced && m.namespace) errs.push({ type: 'FieldValueForbidden', field: 'metadata.namespace', detail: 'not allowed on this type' });
  errs.push(...validateLabels(m.labels, 'metadata.labels'));
  if (m.annotations !== undefined && m.annotations !== null) {
    for (const k of Object.keys(m.annotations)) {
      for (const p of qualifiedNameProblems(k)) errs.push({ type: 'FieldValueInvalid', field: 'metadata.annotations', value: k, detail: p });
    }
    const size = Object.entries(m.annotations).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
    if (size > 262144) errs.push({ type: 'FieldValueTooLong', field: 'metadata.annotations', detail: 'may not be more than 262144 bytes' });
  }
  return errs;
}

/** Fields that may not change after creation, as ValidateObjectMetaUpdate checks. */
export function validateImmutable(obj: KubeObject, old: KubeObject, paths: { path: string[]; field: string }[]): FieldError[] {
  const errs: FieldError[] = [];
  for (const { path, field } of paths) {
    const a = JSON.stringify(dig(obj, path));
    const b = JSON.stringify(dig(old, path));
    if (a !== b) errs.push({ type: 'FieldValueInvalid', field, value: dig(obj, path), detail: 'field is immutable' });
  }
  return errs;
}

function dig(o: unknown, path: string[]): unknown {
  let cur = o;
  for (const p of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined;
  return cur;
}

/** Go's %#v of a map[string]string, which kube uses when it prints label maps in messages. */
export function goStringMap(m: Record<string, string> | undefined): string {
  if (!m) return 'map[string]string(nil)';
  const keys = Object.keys(m).sort();
  return `map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(m[k])}`).join(', ')}}`;
}
