/**
 * Field validation as kube-apiserver does it while decoding a request body:
 * - unknown fields (strict decoding for built-ins, pruning for custom resources), reported per the
 *   request's `fieldValidation` directive: Strict → 400, Warn → warnings, Ignore → nothing;
 * - for built-in kinds, values of the wrong JSON type, which fail decoding whatever the directive
 *   (`json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`);
 * - for custom resources, the CRD version's openAPIV3Schema (validateCustomResource), which the
 *   caller turns into a 422 Invalid.
 * Built-in schemas come from the same `kubernetes-models` source as the OpenAPI documents.
 */
import v8 from 'node:v8';
import { ApiError, type FieldError } from '../../errors.js';
import type { GroupVersionKind, KubeObject } from '../../types.js';
import { k8sModels, REF_PREFIX, type Schema } from '../../apiserver/openapi/k8s-models-source.js';

export type FieldValidationMode = 'Strict' | 'Warn' | 'Ignore';

export interface CheckFieldsInput {
  gvk: GroupVersionKind;
  object: unknown;
  mode: FieldValidationMode;
  crds: KubeObject[];
  /**
   * create/update wrap the decoding error as `<Kind> in version "<v>" cannot be handled as a
   * <Kind>: …`. A JSON, merge or strategic-merge patch reports unknown fields as a 422 on the
   * field `patch` (kubectl: `The request is invalid: patch: Invalid value: "map[…]": strict
   * decoding error: …`), quoting the patch as kube-apiserver does; pass `patch` for that.
   * Defaults to create.
   */
  verb?: 'create' | 'update' | 'patch';
  /** For verb 'patch': the request's patch type and parsed body. */
  patch?: { type: 'strategic' | 'merge' | 'json'; body: unknown };
}

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/**
 * Unknown fields and (built-ins) type errors. Throws ApiError.badRequest for type errors and, in
 * Strict mode, for unknown fields; returns the unknown-field warnings in Warn mode.
 */
export function checkFields(input: CheckFieldsInput): { warnings: string[] } {
  const { gvk, object, mode } = input;
  const crd = findCrd(input.crds, gvk);
  const problems: Problems = { unknown: [], typeErrors: [] };
  if (crd) {
    const schema = crdVersionSchema(crd, gvk.version);
    walkCustom(object, rootCustomSchema(schema), '', problems, true);
    // apiextensions-apiserver reports pruned fields sorted.
    problems.unknown.sort();
  } else {
    const models = k8sModels();
    const name = models.kindDefinitionName(gvk.group, gvk.version, gvk.kind);
    if (!name) return { warnings: [] };
    walkBuiltin(object, { $ref: REF_PREFIX + name }, '', problems, '', shortName(name));
  }
  const wrap = (msg: string) => (input.verb === 'patch' ? msg : `${gvk.kind} in version "${gvk.version}" cannot be handled as a ${gvk.kind}: ${msg}`);
  if (problems.typeErrors.length) {
    if (input.verb === 'patch') throw patchInvalid(input, problems.typeErrors[0]!);
    throw ApiError.badRequest(wrap(problems.typeErrors[0]!));
  }
  if (!problems.unknown.length || mode === 'Ignore') return { warnings: [] };
  const messages = problems.unknown.map((p) => `unknown field "${p}"`);
  if (mode === 'Warn') return { warnings: messages };
  const strict = `strict decoding error: ${messages.join(', ')}`;
  if (input.verb === 'patch') throw patchInvalid(input, strict);
  throw ApiError.badRequest(wrap(strict));
}

/**
 * handlers/patch.go: errors.NewInvalid(schema.GroupKind{}, "", field.Invalid(field.NewPath("patch"),
 * <value>, <decoding error>)). The value is `fmt.Sprintf("%+v", patchMap)` for strategic merge
 * and the patched object's JSON for JSON and merge patches.
 */
function patchInvalid(input: CheckFieldsInput, detail: string): ApiError {
  const value = input.patch?.type === 'strategic' ? goFormat(input.patch.body) : JSON.stringify(input.object);
  const error: FieldError = { type: 'FieldValueInvalid', field: 'patch', value, detail };
  return ApiError.invalid({ group: '', kind: '' }, '', [error]);
}

/** Go's `%+v` of a JSON value decoded into interface{} (maps print with sorted keys). */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return `map[${keys.map((k) => `${k}:${goFormat((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  // apimachinery's strict JSON decoding keeps integers as int64.
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? String(v) : goFloat(v);
  return String(v);
}

/** strconv.FormatFloat(f, 'g', -1, 64), which %v uses for float64. */
function goFloat(f: number): string {
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : f < 0 ? '-Inf' : 'NaN';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(f)));
  const shortest = String(f);
  // The shortest form decides %e against a precision of 6.
  if (exp < -4 || exp >= 6) {
    const [mant, e] = f.toExponential().split('e');
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return shortest;
}

interface Problems {
  unknown: string[];
  typeErrors: string[];
}

const join = (path: string, field: string) => (path ? `${path}.${field}` : field);
const shortName = (definition: string) => definition.slice(definition.lastIndexOf('.') + 1);

function resolve(s: Schema): { schema: Schema; name?: string } {
  let cur = s;
  let name: string | undefined;
  for (let i = 0; i < 10; i++) {
    const ref = cur.$ref ?? (cur.allOf?.length === 1 && !cur.properties ? cur.allOf[0]!.$ref : undefined);
    if (!ref) break;
    name = ref.slice(REF_PREFIX.length);
    const target = k8sModels().get(name);
    if (!target) break;
    cur = target;
  }
  return { schema: cur, ...(name ? { name } : {}) };
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** The Go type encoding/json names in its unmarshal errors. */
function goType(s: Schema, name?: string): string {
  if (name) {
    if (name.endsWith('.Time') || name.endsWith('.MicroTime')) return 'string';
    const parts = name.split('.');
    return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
  }
  if (s.type === 'array') {
    const items = resolve(s.items ?? {});
    return `[]${goType(items.schema, items.name)}`;
  }
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') {
    const v = resolve(s.additionalProperties);
    return `map[string]${goType(v.schema, v.name)}`;
  }
  if (s.type === 'integer') return s.format === 'int64' ? 'int64' : 'int32';
  if (s.type === 'number') return 'float64';
  if (s.type === 'boolean') return 'bool';
  if (s.type === 'string') return s.format === 'byte' ? '[]uint8' : 'string';
  return 'interface {}';
}

/**
 * `goPath` is encoding/json's field stack (no array indices) and `struct` the Go struct that
 * holds the current field, both as they appear in its unmarshal errors.
 */
function walkBuiltin(value: unknown, schemaIn: Schema, path: string, out: Problems, goPath: string, struct: string): void {
  if (value === null || value === undefined) return;
  const { schema, name } = resolve(schemaIn);
  const typeError = () => out.typeErrors.push(goPath
    ? `json: cannot unmarshal ${jsonType(value)} into Go struct field ${struct}.${goPath} of type ${goType(schema, name)}`
    : `json: cannot unmarshal ${jsonType(value)} into Go value of type ${goType(schema, name)}`);
  if (schema['x-kubernetes-preserve-unknown-fields'] || schema['x-kubernetes-int-or-string']) return;
  if (schema.oneOf) {
    // IntOrString and Quantity take a string or a number.
    if (typeof value !== 'string' && typeof value !== 'number') typeError();
    return;
  }
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') typeError();
      return;
    case 'integer':
      if (typeof value !== 'number') typeError();
      else if (!Number.isInteger(value) || (schema.format !== 'int64' && (value > 2147483647 || value < -2147483648))) {
        out.typeErrors.push(`json: cannot unmarshal number ${value} into Go struct field ${struct}.${goPath} of type ${goType(schema)}`);
      }
      return;
    case 'number':
      if (typeof value !== 'number') typeError();
      return;
    case 'boolean':
      if (typeof value !== 'boolean') typeError();
      return;
    case 'array':
      if (!Array.isArray(value)) { typeError(); return; }
      value.forEach((item, i) => {
        // encoding/json decodes a null element into the element type's zero value (a Container
        // with no name, ""), which validation then refuses as kube-apiserver's does.
        if (item === null) {
          const zero = zeroValue(schema.items ?? {});
          if (zero !== undefined) value[i] = zero;
          return;
        }
        walkBuiltin(item, schema.items ?? {}, `${path}[${i}]`, out, goPath, struct);
      });
      return;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) { typeError(); return; }
      const fieldStruct = name ? shortName(name) : struct;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const prop = schema.properties?.[k];
        const childGoPath = join(goPath, k);
        if (prop) {
          walkBuiltin(v, prop, join(path, k), out, childGoPath, fieldStruct);
        } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
          // encoding/json names map values by the map field itself, without the key.
          walkBuiltin(v, schema.additionalProperties, join(path, k), out, goPath, struct);
        } else if (!schema.properties && !schema.additionalProperties) {
          return; // free-form object (RawExtension, FieldsV1)
        } else if (path === '' && (k === 'apiVersion' || k === 'kind')) {
          // TypeMeta is always accepted.
        } else {
          out.unknown.push(join(path, k));
        }
      }
      return;
    }
  }
}

/** The JSON form of a Go zero value for a schema's type, or undefined where it is null (pointers, maps, slices). */
function zeroValue(schemaIn: Schema): unknown {
  const { schema } = resolve(schemaIn);
  if (schema['x-kubernetes-preserve-unknown-fields'] || schema['x-kubernetes-int-or-string'] || schema.oneOf) return undefined;
  switch (schema.type) {
    case 'object':
      return schema.properties ? {} : undefined;
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- custom resources

interface CrdSpec {
  group?: string;
  names?: { kind?: string };
  versions?: { name: string; served?: boolean; schema?: { openAPIV3Schema?: Schema } }[];
}

function findCrd(crds: KubeObject[], gvk: GroupVersionKind): KubeObject | undefined {
  return crds.find((c) => {
    const spec = (c.spec ?? {}) as CrdSpec;
    return spec.group === gvk.group && spec.names?.kind === gvk.kind;
  });
}

function crdVersionSchema(crd: KubeObject, version: string): Schema | undefined {
  const spec = (crd.spec ?? {}) as CrdSpec;
  return spec.versions?.find((v) => v.name === version)?.schema?.openAPIV3Schema;
}

/** The root of a custom resource: TypeMeta and ObjectMeta are implicit, as the API server adds them. */
function rootCustomSchema(schema: Schema | undefined): Schema {
  const base: Schema = schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    ...base,
    properties: {
      ...(base.properties ?? {}),
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { $ref: REF_PREFIX + OBJECT_META },
    },
  };
}

function walkCustom(value: unknown, schema: Schema, path: string, out: Problems, root = false): void {
  if (value === null || typeof value !== 'object') return;
  if (schema.$ref) {
    // Only ObjectMeta is referenced; it is a built-in schema.
    walkBuiltin(value, schema, path, out, path, 'ObjectMeta');
    out.typeErrors.length = 0; // type problems in CR metadata surface through validation, not decoding
    return;
  }
  if (schema['x-kubernetes-preserve-unknown-fields'] && !root) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => walkCustom(item, schema.items!, `${path}[${i}]`, out));
    return;
  }
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const prop = schema.properties?.[k];
    if (prop) walkCustom(v, prop, join(path, k), out);
    else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') walkCustom(v, schema.additionalProperties, join(path, k), out);
    else if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    else if (schema['x-kubernetes-preserve-unknown-fields'] || schema.additionalProperties === true) continue;
    else out.unknown.push(join(path, k));
  }
}

/**
 * The CRD version's openAPIV3Schema applied to a custom resource, as apiextensions-apiserver's
 * validator reports it (types, required, enum, pattern, lengths, bounds, item counts).
 */
export function validateCustomResource(input: { crd: KubeObject; version: string; object: unknown }): FieldError[] {
  const schema = crdVersionSchema(input.crd, input.version);
  if (!schema) return [];
  const errors: FieldError[] = [];
  const root = input.object && typeof input.object === 'object' ? (input.object as Record<string, unknown>) : {};
  // metadata is validated by the generic ObjectMeta rules, not by the CRD schema.
  const { metadata: _m, ...rest } = root;
  const props = { ...(schema.properties ?? {}) };
  delete props.metadata;
  validateValue(rest, { ...schema, properties: props }, '', errors);
  return errors;
}

function schemaTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function validateValue(value: unknown, schema: Schema, path: string, errors: FieldError[]): void {
  const at = path || '<root>';
  // apiextensions-apiserver prunes nulls of non-nullable fields before validating, and accepts
  // them where nullable: either way a null is never an error.
  if (value === null) return;
  const actual = schemaTypeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (actual !== 'integer' && actual !== 'string') errors.push({ type: 'FieldValueTypeInvalid', field: at, value: actual, detail: `${at} in body must be of type integer,string: "${actual}"` });
  } else if (schema.type && !(schema.type === actual || (schema.type === 'number' && actual === 'integer'))) {
    errors.push({ type: 'FieldValueTypeInvalid', field: at, value: actual, detail: `${at} in body must be of type ${schema.type}: "${actual}"` });
    return;
  }
  validateCombinators(value, schema, at, errors);
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push({ type: 'FieldValueNotSupported', field: at, value, supported: schema.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))) });
  }
  const s = schema as Schema & {
    pattern?: string; minLength?: number; maxLength?: number; minimum?: number; maximum?: number;
    exclusiveMinimum?: boolean; exclusiveMaximum?: boolean; minItems?: number; maxItems?: number;
    minProperties?: number; maxProperties?: number;
  };
  if (typeof value === 'string') {
    if (s.pattern !== undefined && !safeRegExp(s.pattern)?.test(value)) errors.push({ type: 'FieldValueInvalid', field: at, value, detail: `${at} in body should match '${s.pattern}'` });
    const length = [...value].length;
    if (s.maxLength !== undefined && length > s.maxLength) errors.push({ type: 'FieldValueTooLong', field: at, value, detail: `may not be more than ${s.maxLength} bytes` });
    if (s.minLength !== undefined && length < s.minLength) errors.push({ type: 'FieldValueInvalid', field: at, value, detail: `${at} in body should be at least ${s.minLength} chars long` });
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? value <= s.minimum : value < s.minimum)) {
      errors.push({ type: 'FieldValueInvalid', field: at, value, detail: `${at} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}` });
    }
    if (s.maximum !== undefined && (s.exclusiveMaximum ? value >= s.maximum : value > s.maximum)) {
      errors.push({ type: 'FieldValueInvalid', field: at, value, detail: `${at} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}` });
    }
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) errors.push({ type: 'FieldValueInvalid', field: at, value: value.length, detail: `${at} in body should have at least ${s.minItems} items` });
    if (s.maxItems !== undefined && value.length > s.maxItems) errors.push({ type: 'FieldValueInvalid', field: at, value: value.length, detail: `must have at most ${s.maxItems} items` });
    if (schema.items) value.forEach((item, i) => validateValue(item, schema.items!, `${path}[${i}]`, errors));
    return;
  }
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) {
      const prop = schema.properties?.[r] as (Schema & { nullable?: boolean }) | undefined;
      if (!(r in obj) || (obj[r] === null && !prop?.nullable)) errors.push({ type: 'FieldValueRequired', field: join(path, r), detail: '' });
    }
    for (const [k, v] of Object.entries(obj)) {
      const prop = schema.properties?.[k];
      if (prop) validateValue(v, prop, join(path, k), errors);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') validateValue(v, schema.additionalProperties, join(path, k), errors);
    }
  }
}

/**
 * oneOf/anyOf/allOf/not, as structural schemas use them for value constraints (Istio's CRDs
 * express "exactly one of exact/prefix/regex" this way). Worded as kube-openapi's validator.
 */
function validateCombinators(value: unknown, schema: Schema, at: string, errors: FieldError[]): void {
  const valid = (branch: Schema) => {
    const branchErrors: FieldError[] = [];
    validateValue(value, branch, at === '<root>' ? '' : at, branchErrors);
    return branchErrors.length === 0;
  };
  const fail = (detail: string) => errors.push({ type: 'FieldValueInvalid', field: at, value: '', detail: `${at} in body ${detail}` });
  if (schema.oneOf?.length && schema.oneOf.filter(valid).length !== 1) fail('must validate one and only one schema (oneOf)');
  if (schema.anyOf?.length && !schema.anyOf.some(valid)) fail('must validate at least one schema (anyOf)');
  if (schema.allOf?.length) for (const branch of schema.allOf) validateValue(value, branch, at === '<root>' ? '' : at, errors);
  const not = (schema as { not?: Schema }).not;
  if (not && valid(not)) fail('must not validate the schema (not)');
}

// A CRD's pattern is the learner's: kube-apiserver runs it with Go's regexp (RE2, linear time),
// V8's backtracking engine could take exponential time and hold every learner's event loop.
// V8's linear engine gives RE2's guarantee (and, like RE2, has no backreferences or lookaround).
v8.setFlagsFromString('--enable-experimental-regexp-engine');

const regexCache = new Map<string, RegExp | undefined>();
function safeRegExp(pattern: string): RegExp | undefined {
  if (!regexCache.has(pattern)) {
    try {
      regexCache.set(pattern, new RegExp(pattern, 'l'));
    } catch {
      regexCache.set(pattern, undefined);
    }
  }
  return regexCache.get(pattern);
}

/**
 * A copy of the object without the fields its schema does not know, which is what kube-apiserver
 * stores after a Warn or Ignore decode (the unknown fields are dropped, not kept).
 */
export function dropUnknownFields(input: { gvk: GroupVersionKind; object: KubeObject; crds: KubeObject[] }): KubeObject {
  let paths: string[];
  try {
    checkFields({ ...input, mode: 'Warn', verb: 'create' });
    const crd = findCrd(input.crds, input.gvk);
    const problems: Problems = { unknown: [], typeErrors: [] };
    if (crd) {
      walkCustom(input.object, rootCustomSchema(crdVersionSchema(crd, input.gvk.version)), '', problems, true);
    } else {
      const name = k8sModels().kindDefinitionName(input.gvk.group, input.gvk.version, input.gvk.kind);
      if (name) walkBuiltin(input.object, { $ref: REF_PREFIX + name }, '', problems, '', shortName(name));
    }
    paths = problems.unknown;
  } catch {
    return input.object;
  }
  if (!paths.length) return input.object;
  const copy = structuredClone(input.object);
  for (const p of paths) {
    const keys = [...p.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
    let cur: unknown = copy;
    for (const k of keys.slice(0, -1)) cur = cur && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[k] : undefined;
    if (cur && typeof cur === 'object') delete (cur as Record<string | number, unknown>)[keys[keys.length - 1]!];
  }
  return copy;
}
