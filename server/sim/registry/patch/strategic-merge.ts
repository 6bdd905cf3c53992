/**
 * Strategic merge patch, following k8s.io/apimachinery/pkg/util/strategicpatch (mergeMap and
 * friends) with the options kube-apiserver uses (MergeParallelList, IgnoreUnmatchedNulls), so
 * lists end up in the same order as on a real cluster. Merge keys and strategies come from the
 * kind's merge schema (its definition's mergeSchema).
 */

import { ApiError } from '../../errors.js';
import type { GroupVersionKind, KubeObject } from '../../types.js';
import { clone, goKind, goString, isObject, type JsonObject } from './json.js';
import { builtinKind } from '../kinds/index.js';
import { fieldSchema, genericObject, itemSchema, type Schema, type StructSchema } from './merge-schema.js';

const directiveMarker = '$patch';
const retainKeysDirective = '$retainKeys';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList';
const setElementOrderPrefix = '$setElementOrder';

/** apimachinery/pkg/util/mergepatch errors and how kube-apiserver's patch handler answers them. */
const badRequest = (message: string) => ApiError.badRequest(message);
const errBadPatchFormatForPrimitiveList = () => badRequest('invalid patch format of primitive list');
const errBadPatchFormatForRetainKeys = () => badRequest('invalid patch format of retainKeys');
const errBadPatchFormatForSetElementOrderList = () => badRequest('invalid patch format of setElementOrder list');
const errNoListOfLists = () =>
  new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
/** Errors the handler does not interpret reach the client as a 500 with an empty reason. */
const uninterpreted = (message: string) => new ApiError(500, '', message);
const errNoMergeKey = (m: unknown, key: string) => uninterpreted(`map: ${goString(m)} does not contain declared merge key: ${key}`);
const errBadPatchType = (t: unknown, m: unknown) => uninterpreted(`unknown patch type: ${goString(t)} in map: ${goString(m)}`);
const errBadArgType = (expected: unknown, actual: unknown) =>
  uninterpreted(`expected a ${goKind(expected)}, but received a ${goKind(actual)}`);

/**
 * Whether kube-apiserver accepts `application/strategic-merge-patch+json` for this kind: kinds
 * compiled in accept it, custom resources do not. For callers with a GVK only (the served
 * resource knows: it is not a CRD's).
 */
export function supportsStrategicMerge(gvk: GroupVersionKind): boolean {
  return builtinKind(gvk) !== undefined;
}

/** What kube-apiserver answers a strategic merge patch on a custom resource (415). */
export function strategicMergeUnsupported(): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
  );
}

/**
 * `schema`: the kind's merge schema, from its served resource; without it the GVK must name a
 * built-in kind, whose definition gives it.
 */
export function applyStrategicMergePatch(obj: KubeObject, patch: unknown, gvk: GroupVersionKind, schema?: StructSchema): KubeObject {
  const known = schema ? undefined : builtinKind(gvk);
  if (!schema && !known) throw strategicMergeUnsupported();
  if (!isObject(patch)) {
    throw badRequest(`json: cannot unmarshal ${Array.isArray(patch) ? 'array' : patch === null ? 'null' : typeof patch} into Go value of type map[string]interface {}`);
  }
  return mergeMap(clone(obj) as JsonObject, clone(patch), schema ?? known?.mergeSchema ?? genericObject) as KubeObject;
}

/** Applies a strategic merge patch to any JSON object with an explicit schema (for tests and reuse). */
export function strategicMergeWithSchema(original: JsonObject, patch: JsonObject, schema: Schema | undefined): JsonObject {
  return mergeMap(clone(original), clone(patch), schema);
}

function mergeMap(original: JsonObject, patch: JsonObject, schema: Schema | undefined): JsonObject {
  if (Object.prototype.hasOwnProperty.call(patch, directiveMarker)) {
    const directive = patch[directiveMarker];
    if (directive === 'replace') {
      delete patch[directiveMarker];
      return removeDirectives(patch).value as JsonObject;
    }
    if (directive === 'delete') return {};
    throw errBadPatchType(directive, patch);
  }

  applyRetainKeysDirective(original, patch);
  mergeSetElementOrderLists(original, patch, schema);

  for (const rawKey of Object.keys(patch)) {
    let key = rawKey;
    const patchV = patch[rawKey];
    let isDeleteList = false;
    if (rawKey.startsWith(deleteFromPrimitiveListPrefix)) {
      key = extractKey(rawKey, deleteFromPrimitiveListPrefix);
      isDeleteList = true;
    }

    if (patchV === null) {
      delete original[key];
      continue;
    }

    if (!Object.prototype.hasOwnProperty.call(original, key)) {
      if (!isDeleteList) {
        discardNullValues(patchV);
        const { value, keep } = removeDirectives(patchV);
        if (keep) original[key] = value;
      }
      continue;
    }

    const originalV = original[key];
    if (goKind(originalV) !== goKind(patchV)) {
      if (!isDeleteList) {
        discardNullValues(patchV);
        const { value, keep } = removeDirectives(patchV);
        if (keep) original[key] = value;
        else delete original[key];
      }
      continue;
    }

    const sub = fieldSchema(schema, key);
    if (isObject(originalV) && isObject(patchV)) {
      original[key] = sub?.kind === 'struct' && sub.replace ? patchV : mergeMap(originalV, patchV, sub);
    } else if (Array.isArray(originalV) && Array.isArray(patchV)) {
      original[key] = mergeSliceHandler(originalV, patchV, sub, isDeleteList);
    } else {
      const { value, keep } = removeDirectives(patchV);
      if (keep) original[key] = value;
      else delete original[key];
    }
  }
  return original;
}

function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    throw prefix === deleteFromPrimitiveListPrefix ? errBadPatchFormatForPrimitiveList() : errBadPatchFormatForSetElementOrderList();
  }
  return s.slice(slash + 1);
}

function applyRetainKeysDirective(original: JsonObject, patch: JsonObject): void {
  if (!Object.prototype.hasOwnProperty.call(patch, retainKeysDirective)) return;
  const retain = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  if (!Array.isArray(retain)) throw errBadPatchFormatForRetainKeys();
  const keep = new Set(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(deleteFromPrimitiveListPrefix) || k.startsWith(setElementOrderPrefix)) continue;
    if (!keep.has(k)) throw errBadPatchFormatForRetainKeys();
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** `$setElementOrder/<list>`: merges that list now and orders it as the directive says. */
function mergeSetElementOrderLists(original: JsonObject, patch: JsonObject, schema: Schema | undefined): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(setElementOrderPrefix)) continue;
    const order = patch[directiveKey];
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw errBadArgType([], order);
    const key = extractKey(directiveKey, setElementOrderPrefix);
    const foundOriginal = Object.prototype.hasOwnProperty.call(original, key);
    const foundPatch = Object.prototype.hasOwnProperty.call(patch, key);
    const originalList = foundOriginal ? original[key] : undefined;
    const patchList = foundPatch ? patch[key] : undefined;
    if (foundOriginal && !Array.isArray(originalList)) throw errBadArgType([], originalList);
    if (foundPatch && !Array.isArray(patchList)) throw errBadArgType([], patchList);
    const sub = fieldSchema(schema, key);
    const mergeKey = sub?.kind === 'list' && sub.smp === 'merge' ? sub.mergeKey ?? '' : '';
    validatePatchWithSetOrderList((patchList as unknown[] | undefined) ?? [], order, mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalList as unknown[];
    else if (!foundOriginal && foundPatch) {
      const { value, keep } = removeDirectives(patchList);
      if (!keep) continue;
      merged = value as unknown[];
    } else if (foundOriginal && foundPatch) {
      merged = mergeSliceHandler(originalList as unknown[], patchList as unknown[], sub, false);
    } else continue;

    const [patchItems, serverOnly] = mergeKey
      ? partitionMapsByPresentInList(merged, order, mergeKey)
      : partitionPrimitivesByPresentInList(merged, order);
    const kind = sliceElementKind((originalList as unknown[] | undefined) ?? [], (patchList as unknown[] | undefined) ?? []);
    original[key] = normalizeElementOrder(patchItems, serverOnly, order, (originalList as unknown[] | undefined) ?? [], mergeKey, kind);
    delete patch[key];
  }
}

function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList)[0] : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < order.length) {
    if (isObject(nonDelete[p]) && directiveMarker in (nonDelete[p] as JsonObject)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(nonDelete[p], order[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= order.length) {
    throw uninterpreted(`The order in patch list:\n${goString(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${goString(order)}\n`);
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isObject(left)) throw errBadArgType({}, left);
  if (!isObject(right)) throw errBadArgType({}, right);
  if (!(mergeKey in left)) throw errNoMergeKey(left, mergeKey);
  if (!(mergeKey in right)) throw errNoMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

function mergeSliceHandler(original: unknown[], patch: unknown[], schema: Schema | undefined, isDeleteList: boolean): unknown[] {
  const merge = schema?.kind === 'list' && schema.smp === 'merge';
  if (merge || isDeleteList) {
    const mergeKey = schema?.kind === 'list' ? schema.mergeKey ?? '' : '';
    return mergeSlice(original, patch, itemSchema(schema), mergeKey, isDeleteList);
  }
  return patch;
}

type ElementKind = 'map' | 'scalar';

function sliceElementKind(...slices: unknown[][]): ElementKind {
  let prev: string | undefined;
  for (const s of slices) {
    for (const v of s) {
      const kind = goKind(v);
      if (prev === undefined) {
        prev = kind;
        if (kind === 'slice') throw errNoListOfLists();
      } else if (prev !== kind) {
        throw uninterpreted(`list element types are not identical: ${goString(slices)}`);
      }
    }
  }
  if (prev === undefined) throw uninterpreted('no elements in any of the given slices');
  return prev === 'map' ? 'map' : 'scalar';
}

function mergeSlice(original: unknown[], patch: unknown[], items: Schema | undefined, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  let merged: unknown[];
  if (kind !== 'map') {
    if (isDeleteList) return original.filter((v) => !patch.includes(v));
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (!mergeKey) throw uninterpreted('cannot merge lists without merge key for');
    [original, patch] = mergeSliceWithSpecialElements(original, patch, mergeKey);
    merged = mergeSliceWithoutSpecialElements([...original], patch, mergeKey, items);
  }
  const [patchItems, serverOnly] = mergeKey
    ? partitionMapsByPresentInList(merged, patch, mergeKey)
    : partitionPrimitivesByPresentInList(merged, patch);
  return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
}

/** Go's "clever" in-place deduplication, which swaps the last element in: order matters to users. */
function deduplicateScalars(s: unknown[]): unknown[] {
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (s[i] === s[j]) {
        s[j] = s[length];
        s = s.slice(0, length);
        length--;
        j--;
      }
    }
  }
  return s;
}

function mergeSliceWithSpecialElements(original: unknown[], patch: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const withoutSpecial: unknown[] = [];
  let replace = false;
  for (const v of patch) {
    const m = v as JsonObject;
    if (!Object.prototype.hasOwnProperty.call(m, directiveMarker)) {
      withoutSpecial.push(v);
      continue;
    }
    const directive = m[directiveMarker];
    if (directive === 'delete') {
      if (!(mergeKey in m)) throw errNoMergeKey(m, mergeKey);
      original = original.filter((o) => !(isObject(o) && o[mergeKey] === m[mergeKey]));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw uninterpreted('merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, m);
    }
  }
  return replace ? [withoutSpecial, []] : [original, withoutSpecial];
}

function mergeSliceWithoutSpecialElements(original: unknown[], patch: unknown[], mergeKey: string, items: Schema | undefined): unknown[] {
  for (const v of patch) {
    const m = v as JsonObject;
    if (!(mergeKey in m)) throw errNoMergeKey(m, mergeKey);
    const idx = original.findIndex((o) => {
      if (!isObject(o)) throw uninterpreted(`value for key ${original.indexOf(o)} is not a map`);
      return o[mergeKey] === m[mergeKey];
    });
    if (idx >= 0) original[idx] = mergeMap(original[idx] as JsonObject, m, items);
    else {
      const { value, keep } = removeDirectives(m);
      if (keep) original.push(value);
    }
  }
  return original;
}

function partitionPrimitivesByPresentInList(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inPatch = new Set(by);
  return [list.filter((v) => inPatch.has(v)), list.filter((v) => !inPatch.has(v))];
}

function partitionMapsByPresentInList(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) {
    if (!isObject(v)) throw errBadArgType({}, v);
    if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
    const found = by.some((b) => isObject(b) && b[mergeKey] === v[mergeKey]);
    (found ? patch : serverOnly).push(v);
  }
  return [patch, serverOnly];
}

function keyOf(item: unknown, mergeKey: string, kind: ElementKind): unknown {
  if (kind === 'map') return isObject(item) ? item[mergeKey] : undefined;
  return item;
}

function indexIn(list: unknown[], item: unknown, mergeKey: string, kind: ElementKind): number {
  const k = keyOf(item, mergeKey, kind);
  return list.findIndex((v) => keyOf(v, mergeKey, kind) === k);
}

function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const nonDelete: unknown[] = [];
  const toDelete: unknown[] = [];
  for (const v of list) {
    if (!isObject(v)) throw errBadArgType({}, v);
    (v[directiveMarker] === 'delete' ? toDelete : nonDelete).push(v);
  }
  return [nonDelete, toDelete];
}

/**
 * Go's sort.SliceStable with strategicpatch's comparator, which is not a strict ordering (items
 * missing from `order` compare "less" than anything), so the exact algorithm decides the result.
 * Go uses insertion sort on blocks of 20 and merges them; patch lists are far shorter.
 */
function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  let toDelete: unknown[] = [];
  let items = [...toSort];
  if (kind === 'map') {
    for (const v of [...items, ...order]) if (isObject(v) && !(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
    [items, toDelete] = extractToDeleteItems(items);
  }
  const less = (a: unknown, b: unknown): boolean => {
    const ia = indexIn(order, a, mergeKey, kind);
    if (ia >= 0) {
      const ib = indexIn(order, b, mergeKey, kind);
      if (ib >= 0) return ia < ib;
    }
    return true;
  };
  for (let i = 1; i < items.length; i++) {
    for (let j = i; j > 0 && less(items[j], items[j - 1]); j--) {
      [items[j], items[j - 1]] = [items[j - 1], items[j]];
    }
  }
  return [...items, ...toDelete];
}

function normalizeElementOrder(patch: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  const left = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  const right = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Drops directive-bearing maps and strips directive keys from a value copied from the patch. */
function removeDirectives(v: unknown): { value: unknown; keep: boolean } {
  if (isObject(v)) {
    if (Object.prototype.hasOwnProperty.call(v, directiveMarker)) return { value: undefined, keep: false };
    const out: JsonObject = {};
    for (const [k, child] of Object.entries(v)) {
      if (k === retainKeysDirective || k.startsWith(setElementOrderPrefix) || k.startsWith(deleteFromPrimitiveListPrefix)) continue;
      const r = removeDirectives(child);
      if (r.keep) out[k] = r.value;
    }
    return { value: out, keep: true };
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const child of v) {
      const r = removeDirectives(child);
      if (r.keep) out.push(r.value);
    }
    return { value: out, keep: true };
  }
  return { value: v, keep: true };
}

function discardNullValues(v: unknown): void {
  if (isObject(v)) {
    for (const [k, child] of Object.entries(v)) {
      if (child === null) delete v[k];
      else discardNullValues(child);
    }
  } else if (Array.isArray(v)) {
    for (const child of v) discardNullValues(child);
  }
}
