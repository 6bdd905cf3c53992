/**
 * Schema-aware walks over JSON values, after structured-merge-diff's typed package: the field set
 * of a value (ToFieldSet), the difference of two values (Compare), merging an applied
 * configuration into a live object (Merge) and removing fields (RemoveItems).
 */

import { ApiError } from '../../errors.js';
import { FieldSet, fieldPE, keyPE, pathText, peText, valuePE, type Path, type PathElement } from './fieldset.js';
import { clone, deepEqual, isObject, type JsonObject } from './json.js';
import { fieldSchema, itemSchema, type ListSchema, type Schema } from './merge-schema.js';

/** A value does not fit its schema the way SMD requires (e.g. a list item without its key). */
export class SchemaError extends Error {}

const isAtomic = (s: Schema | undefined): boolean =>
  s !== undefined && ((s.kind === 'list' && s.ssa === 'atomic') || (s.kind !== 'list' && s.atomic === true));

/** Lists SMD tracks item by item; every other list (and any list the table does not know) is atomic. */
const granularList = (s: Schema | undefined): s is ListSchema => s?.kind === 'list' && s.ssa !== 'atomic';

/** Object keys the schema names as fields (structs) as opposed to map entries. */
const isDeclaredField = (s: Schema | undefined): boolean => s?.kind !== 'map';

export function listItemPE(schema: ListSchema, item: unknown, path: Path): PathElement {
  if (schema.ssa === 'set') return valuePE(item);
  if (!isObject(item)) throw new SchemaError(`${pathText(path)}: expected map, got ${JSON.stringify(item)}`);
  const fields: Record<string, unknown> = {};
  for (const key of schema.keys ?? []) {
    if (item[key] !== undefined && item[key] !== null) fields[key] = item[key];
    else if (schema.keyDefaults && key in schema.keyDefaults) fields[key] = schema.keyDefaults[key];
    else {
      throw new SchemaError(
        `${pathText(path)}: associative list with keys has an element that omits key field ${JSON.stringify(key)} (and doesn't have default value)`,
      );
    }
  }
  return keyPE(fields);
}

/**
 * typed.ToFieldSet: leaves, list items, map entries, and empty or null struct fields.
 * `strict` refuses duplicate list keys, as validating an applied configuration does.
 */
export function toFieldSet(value: unknown, schema: Schema | undefined, strict = false): FieldSet {
  const set = new FieldSet();
  const walk = (v: unknown, s: Schema | undefined, path: Path) => {
    if (isObject(v)) {
      if (isAtomic(s)) {
        set.insert(path);
        return;
      }
      for (const [key, child] of Object.entries(v)) {
        const childPath = [...path, fieldPE(key)];
        walk(child, fieldSchema(s, key), childPath);
        if (child === null || (isObject(child) && Object.keys(child).length === 0) || !isDeclaredField(s)) set.insert(childPath);
      }
      return;
    }
    if (Array.isArray(v)) {
      if (!granularList(s)) {
        set.insert(path);
        return;
      }
      const seen = new Set<PathElement>();
      for (const item of v) {
        const pe = listItemPE(s, item, path);
        if (seen.has(pe)) {
          if (strict) throw new SchemaError(`${pathText(path)}: duplicate entries for key ${peText(pe)}`);
          continue;
        }
        seen.add(pe);
        const itemPath = [...path, pe];
        walk(item, itemSchema(s), itemPath);
        set.insert(itemPath);
      }
      return;
    }
    set.insert(path);
  };
  walk(value, schema, []);
  return set;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

const isEmptyContainer = (v: unknown) =>
  v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/** typed.Compare. `undefined` means absent; `null` is a present (empty) value, as SMD reads Go's zero objects. */
export function compare(lhs: unknown, rhs: unknown, schema: Schema | undefined): Comparison {
  const cmp: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const leaf = (l: unknown, r: unknown, path: Path) => {
    if (path.length === 0) return;
    if (l === undefined) cmp.added.insert(path);
    else if (r === undefined) cmp.removed.insert(path);
    else if (!deepEqual(l, r)) cmp.modified.insert(path);
  };
  const walk = (l: unknown, r: unknown, s: Schema | undefined, path: Path) => {
    const shape = isObject(l) || isObject(r) ? 'map' : Array.isArray(l) || Array.isArray(r) ? 'list' : 'scalar';
    const fits = (v: unknown) => v === undefined || v === null || (shape === 'map' ? isObject(v) : shape === 'list' ? Array.isArray(v) : true);
    let inLeaf = false;
    if (!fits(l) || !fits(r) || shape === 'scalar' || isAtomic(s) || (isEmptyContainer(l) && isEmptyContainer(r))) {
      leaf(l, r, path);
      inLeaf = true;
    } else if (shape === 'map') {
      const lm = (isObject(l) ? l : {}) as JsonObject;
      const rm = (isObject(r) ? r : {}) as JsonObject;
      const keys = new Set([...Object.keys(lm), ...Object.keys(rm)]);
      for (const key of keys) walk(lm[key], rm[key], fieldSchema(s, key), [...path, fieldPE(key)]);
    } else if (!granularList(s)) {
      leaf(l, r, path);
      inLeaf = true;
    } else {
      const index = (list: unknown) => {
        const m = new Map<PathElement, unknown[]>();
        for (const item of Array.isArray(list) ? list : []) {
          const pe = listItemPE(s, item, path);
          m.set(pe, [...(m.get(pe) ?? []), item]);
        }
        return m;
      };
      const li = index(l);
      const ri = index(r);
      for (const pe of new Set([...li.keys(), ...ri.keys()])) {
        const ll = li.get(pe) ?? [];
        const rl = ri.get(pe) ?? [];
        const itemPath = [...path, pe];
        if (ll.length <= 1 && rl.length <= 1) walk(ll[0], rl[0], itemSchema(s), itemPath);
        else if (ll.length >= 2 && rl.length >= 2) {
          if (!deepEqual(ll, rl)) cmp.modified.insert(itemPath);
        } else if (ll.length >= 2) cmp.removed.insert(itemPath);
        else cmp.added.insert(itemPath);
      }
    }
    if (!inLeaf && path.length > 0) {
      if (l === undefined) cmp.added.insert(path);
      else if (r === undefined) cmp.removed.insert(path);
    }
  };
  walk(lhs, rhs, schema, []);
  return cmp;
}

/** typed.Merge: the applied configuration (rhs) merged into the live object (lhs). */
export function merge(lhs: unknown, rhs: unknown, schema: Schema | undefined, path: Path = []): unknown {
  if (rhs === undefined) return clone(lhs);
  if (lhs === undefined || lhs === null || isAtomic(schema)) return clone(rhs);
  if (isObject(lhs) && isObject(rhs)) {
    const out: JsonObject = {};
    for (const [key, lv] of Object.entries(lhs)) {
      if (!(key in rhs)) out[key] = clone(lv);
      else if (rhs[key] !== null) out[key] = merge(lv, rhs[key], fieldSchema(schema, key), [...path, fieldPE(key)]);
    }
    for (const [key, rv] of Object.entries(rhs)) {
      if (!(key in lhs) && rv !== null) out[key] = clone(rv);
    }
    return out;
  }
  if (Array.isArray(lhs) && Array.isArray(rhs) && granularList(schema)) return mergeList(lhs, rhs, schema, path);
  return clone(rhs);
}

/** mergingWalker.visitListItems: shared items follow the applied order, live-only items keep their place. */
function mergeList(lhs: unknown[], rhs: unknown[], schema: ListSchema, path: Path): unknown[] {
  const index = (list: unknown[]) => {
    const pes: PathElement[] = [];
    const observed = new Map<PathElement, unknown>();
    for (const item of list) {
      const pe = listItemPE(schema, item, path);
      if (observed.has(pe)) continue;
      observed.set(pe, item);
      pes.push(pe);
    }
    return { pes, observed };
  };
  const r = index(rhs);
  const l = index(lhs);
  const sharedOrder = r.pes.filter((pe) => l.observed.has(pe));
  let nextShared = sharedOrder.shift();
  const mergedRHS = new Set<PathElement>();
  const out: unknown[] = [];
  const items = itemSchema(schema);
  const mergeItem = (pe: PathElement, lv: unknown, rv: unknown) => {
    const merged = merge(lv, rv, items, [...path, pe]);
    if (merged !== undefined) out.push(merged);
  };
  let lI = 0;
  let rI = 0;
  while (lI < l.pes.length || rI < r.pes.length) {
    if (lI < l.pes.length && rI < r.pes.length) {
      const pe = l.pes[lI];
      if (pe === r.pes[rI]) {
        mergedRHS.add(pe);
        mergeItem(pe, l.observed.get(pe), r.observed.get(pe));
        lI++;
        rI++;
        nextShared = sharedOrder.shift();
        continue;
      }
      if (r.observed.has(pe) && nextShared !== undefined && nextShared !== pe) {
        lI++;
        continue;
      }
    }
    if (lI < l.pes.length) {
      const pe = l.pes[lI];
      if (!r.observed.has(pe)) {
        mergeItem(pe, l.observed.get(pe), undefined);
        lI++;
        continue;
      } else if (mergedRHS.has(pe)) {
        lI++;
      }
    }
    if (rI < r.pes.length) {
      const pe = r.pes[rI];
      mergedRHS.add(pe);
      mergeItem(pe, l.observed.get(pe), r.observed.get(pe));
      rI++;
      if (nextShared !== undefined && nextShared === pe) nextShared = sharedOrder.shift();
    }
  }
  return out;
}

/**
 * typed.RemoveItems: drops every member of `toRemove` from the value. Objects and lists left empty
 * are dropped too (SMD leaves null, which decoding into a Go type drops).
 */
export function removeItems(value: unknown, toRemove: FieldSet, schema: Schema | undefined): unknown {
  if (isAtomic(schema)) return value;
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      const pe = fieldPE(key);
      if (toRemove.members.has(pe)) continue;
      const sub = toRemove.children.get(pe);
      if (sub && !sub.isEmpty()) {
        const pruned = removeItems(child, sub, fieldSchema(schema, key));
        if (pruned !== undefined) out[key] = pruned;
      } else {
        out[key] = child;
      }
    }
    return Object.keys(out).length || Object.keys(value).length === 0 ? out : undefined;
  }
  if (Array.isArray(value) && granularList(schema)) {
    const out: unknown[] = [];
    for (const item of value) {
      const pe = listItemPE(schema, item, []);
      if (toRemove.members.has(pe)) continue;
      const sub = toRemove.children.get(pe);
      if (!sub || sub.isEmpty()) {
        out.push(item);
        continue;
      }
      const pruned = (removeItems(item, sub, itemSchema(schema)) ?? {}) as JsonObject;
      // An item that stays keeps its key fields, or it could no longer be addressed.
      if (isObject(item)) for (const key of schema.keys ?? []) if (item[key] !== undefined) pruned[key] = item[key];
      out.push(pruned);
    }
    return out.length || value.length === 0 ? out : undefined;
  }
  return value;
}

/** The 400 kube-apiserver answers for an applied configuration that does not fit the schema. */
export function typedPatchError(gvk: { group: string; version: string; kind: string }, err: SchemaError): ApiError {
  const gv = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
  return ApiError.badRequest(`failed to create typed patch object (${gv}, Kind=${gvk.kind}): ${err.message}`);
}
