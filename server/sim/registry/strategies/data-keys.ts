/** Data keys of ConfigMaps and Secrets: kube's config key rule and the `immutable` flag. */
import type { FieldError } from '../../errors.js';

type Obj = Record<string, any>;

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

export function keyErrors(data: unknown, field: string): FieldError[] {
  if (!data || typeof data !== 'object') return [];
  const errs: FieldError[] = [];
  for (const k of Object.keys(data)) if (!CONFIG_KEY.test(k)) errs.push({ type: 'FieldValueInvalid', field, value: k, detail: CONFIG_KEY_MSG });
  return errs;
}

export function immutableData(o: Obj, old: Obj): FieldError[] {
  if (JSON.stringify(o.data ?? {}) !== JSON.stringify(old.data ?? {}) || JSON.stringify(o.binaryData ?? {}) !== JSON.stringify(old.binaryData ?? {})) {
    return [{ type: 'FieldValueForbidden', field: 'data', detail: 'field is immutable when `immutable` is set' }];
  }
  return [];
}
