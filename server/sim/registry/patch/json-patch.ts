/**
 * RFC 6902 JSON patch with the semantics of gopkg.in/evanphx/json-patch.v4, the library
 * kube-apiserver applies `application/json-patch+json` with (negative array indices included).
 */

import { ApiError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { clone, deepEqual, isObject, type JsonObject } from './json.js';

/** kube-apiserver's patch handler never exceeds this many operations (maxJSONPatchOperations). */
export const maxJsonPatchOperations = 10000;

/** A patch that decodes but cannot be applied: kube answers 422 with a generic message and drops the detail. */
class PatchApplyError extends Error {}

/**
 * How kube-apiserver reports a JSON patch that does not apply:
 * `errors.NewGenericServerResponse(422, "", GroupResource{}, "", err, 0, false)`, so kubectl prints
 * `The request is invalid: the server rejected our request due to an error in our request`.
 */
export function jsonPatchInvalid(detail: string): ApiError {
  const error = new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
  // The detail is not part of kube's answer; keep it for logs.
  (error as Error).cause = detail;
  return error;
}

type Container = JsonObject | unknown[];

function decodePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchApplyError(`JSON pointer must be empty or start with a "/": ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The container holding the last segment of `path`, or undefined when an ancestor is missing. */
function findContainer(doc: unknown, parts: string[]): Container | undefined {
  let cur: unknown = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const idx = arrayIndex(part, cur.length, false);
      if (idx === undefined) return undefined;
      cur = cur[idx];
    } else if (isObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
      cur = cur[part];
    } else {
      return undefined;
    }
  }
  return Array.isArray(cur) || isObject(cur) ? cur : undefined;
}

function arrayIndex(key: string, length: number, forInsert: boolean): number | undefined {
  if (!/^-?\d+$/.test(key)) return undefined;
  let idx = Number(key);
  const size = forInsert ? length + 1 : length;
  if (idx < 0) {
    if (idx < -size) return undefined;
    idx += size;
  }
  if (idx >= size) return undefined;
  return idx;
}

function get(con: Container, key: string): unknown {
  if (Array.isArray(con)) {
    const idx = arrayIndex(key, con.length, false);
    if (idx === undefined) throw new PatchApplyError(`Unable to access invalid index: ${key}: invalid index referenced`);
    return con[idx];
  }
  return Object.prototype.hasOwnProperty.call(con, key) ? con[key] : undefined;
}

function add(con: Container, key: string, value: unknown): void {
  if (Array.isArray(con)) {
    if (key === '-') {
      con.push(value);
      return;
    }
    if (!/^-?\d+$/.test(key)) throw new PatchApplyError(`value was not a proper array index: '${key}'`);
    const idx = arrayIndex(key, con.length, true);
    if (idx === undefined) throw new PatchApplyError(`Unable to access invalid index: ${key}: invalid index referenced`);
    con.splice(idx, 0, value);
    return;
  }
  con[key] = value;
}

function remove(con: Container, key: string): void {
  if (Array.isArray(con)) {
    const idx = arrayIndex(key, con.length, false);
    if (idx === undefined) throw new PatchApplyError(`Unable to access invalid index: ${key}: invalid index referenced`);
    con.splice(idx, 1);
    return;
  }
  if (!Object.prototype.hasOwnProperty.call(con, key)) throw new PatchApplyError(`Unable to remove nonexistent key: ${key}: missing value`);
  delete con[key];
}

function requirePath(op: JsonObject, field: 'path' | 'from'): string {
  const v = op[field];
  if (typeof v !== 'string') {
    throw new PatchApplyError(field === 'path' ? 'operation missing path field: missing value' : 'operation, missing from field: missing value');
  }
  return v;
}

/** v4 stores a missing "value" as JSON null rather than failing. */
function valueOrNull(op: JsonObject): unknown {
  return op.value === undefined ? null : clone(op.value);
}

/** Validates the shape kube's DecodePatch accepts: a JSON array of objects. 400 otherwise. */
export function decodeJsonPatch(ops: unknown): JsonObject[] {
  if (!Array.isArray(ops)) {
    throw ApiError.badRequest(`json: cannot unmarshal ${jsonTypeName(ops)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of ops) {
    if (!isObject(op)) {
      throw ApiError.badRequest(`json: cannot unmarshal ${jsonTypeName(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (ops.length > maxJsonPatchOperations) {
    throw ApiError.tooLarge(`The allowed maximum operations in a JSON patch is ${maxJsonPatchOperations}, got ${ops.length}`);
  }
  return ops as JsonObject[];
}

function jsonTypeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

function applyOne(doc: JsonObject, op: JsonObject): JsonObject {
  const kind = op.op;
  switch (kind) {
    case 'add': {
      const path = requirePath(op, 'path');
      const parts = decodePointer(path);
      // findObject never finds a container for the root in v4, so "add" cannot replace the document.
      const con = parts.length ? findContainer(doc, parts) : undefined;
      if (!con) throw new PatchApplyError(`add operation does not apply: doc is missing path: "${path}": missing value`);
      add(con, parts[parts.length - 1], valueOrNull(op));
      return doc;
    }
    case 'remove': {
      const path = requirePath(op, 'path');
      const parts = decodePointer(path);
      const con = parts.length ? findContainer(doc, parts) : undefined;
      if (!con) throw new PatchApplyError(`remove operation does not apply: doc is missing path: "${path}": missing value`);
      remove(con, parts[parts.length - 1]);
      return doc;
    }
    case 'replace': {
      const path = requirePath(op, 'path');
      const value = valueOrNull(op);
      const parts = decodePointer(path);
      if (parts.length === 0) {
        if (!isObject(value)) throw new PatchApplyError('replace operation value must be object or array');
        return value;
      }
      const con = findContainer(doc, parts);
      if (!con) throw new PatchApplyError(`replace operation does not apply: doc is missing path: ${path}: missing value`);
      const key = parts[parts.length - 1];
      if (Array.isArray(con)) {
        const idx = arrayIndex(key, con.length, false);
        if (idx === undefined) throw new PatchApplyError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
        con[idx] = value;
      } else {
        // v4 only checks that the parent exists: replacing a missing member adds it.
        con[key] = value;
      }
      return doc;
    }
    case 'move':
    case 'copy': {
      const from = requirePath(op, 'from');
      const path = requirePath(op, 'path');
      const fromParts = decodePointer(from);
      const fromCon = fromParts.length ? findContainer(doc, fromParts) : undefined;
      if (!fromCon) throw new PatchApplyError(`${kind} operation does not apply: doc is missing from path: ${from}: missing value`);
      const fromKey = fromParts[fromParts.length - 1];
      const value = get(fromCon, fromKey);
      if (value === undefined) throw new PatchApplyError(`${kind} operation does not apply: doc is missing from path: ${from}: missing value`);
      if (kind === 'move') remove(fromCon, fromKey);
      const parts = decodePointer(path);
      const con = parts.length ? findContainer(doc, parts) : undefined;
      if (!con) throw new PatchApplyError(`${kind} operation does not apply: doc is missing destination path: ${path}: missing value`);
      add(con, parts[parts.length - 1], kind === 'copy' ? clone(value) : value);
      return doc;
    }
    case 'test': {
      const path = requirePath(op, 'path');
      const expected = Object.prototype.hasOwnProperty.call(op, 'value') ? op.value : undefined;
      const parts = decodePointer(path);
      if (parts.length === 0) {
        if (deepEqual(doc, expected)) return doc;
        throw new PatchApplyError(`testing value ${path} failed: test failed`);
      }
      const con = findContainer(doc, parts);
      if (!con) throw new PatchApplyError(`test operation does not apply: is missing path: ${path}: missing value`);
      const actual = get(con, parts[parts.length - 1]);
      // evanphx: a missing member equals an absent or null expected value.
      if (actual === undefined ? expected === undefined || expected === null : deepEqual(actual, expected)) return doc;
      throw new PatchApplyError(`testing value ${path} failed: test failed`);
    }
    default:
      throw new PatchApplyError(`Unexpected kind: ${typeof kind === 'string' ? kind : 'unknown'}`);
  }
}

export function applyJsonPatch(obj: KubeObject, ops: unknown): KubeObject {
  const operations = decodeJsonPatch(ops);
  let doc = clone(obj) as JsonObject;
  try {
    for (const op of operations) doc = applyOne(doc, op);
  } catch (err) {
    if (err instanceof PatchApplyError) throw jsonPatchInvalid(err.message);
    throw err;
  }
  return doc as KubeObject;
}
