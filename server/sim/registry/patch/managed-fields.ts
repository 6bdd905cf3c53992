/**
 * Field ownership (metadata.managedFields) and server-side apply, after kube-apiserver's
 * field manager (k8s.io/apimachinery/pkg/util/managedfields/internal) and structured-merge-diff's
 * merge.Updater: Apply merges the configuration, prunes what the applier stopped applying and
 * refuses to change fields other managers own; Update hands changed fields to the writer.
 */

import { ApiError, type StatusCause } from '../../errors.js';
import type { GroupVersionKind, KubeObject, ManagedFieldsEntry } from '../../types.js';
import { FieldSet, fieldPE, pathText, type Path } from './fieldset.js';
import { clone, deepEqual, isObject, type JsonObject } from './json.js';
import { builtinKind } from '../kinds/index.js';
import { genericObject, type StructSchema } from './merge-schema.js';
import { compare, merge, removeItems, SchemaError, toFieldSet, typedPatchError } from './typed.js';

export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
const beforeFirstApplyManager = 'before-first-apply';
const currentOperation = 'current-operation';

/** Fields no manager ever owns (stripMetaManager). */
const stripSet = FieldSet.of(
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map(
    (f): Path => ['f:metadata', fieldPE(f)],
  ),
);

/** What ownership needs to know about a kind (its served resource's definition). */
export interface OwnershipKind {
  /** How objects merge; a CRD's comes from schemaFromOpenAPI. */
  schema?: StructSchema;
  /** Paths a zero Go object of the kind has (a create does not claim them). */
  zeroPaths?: string[];
  /** Whether status is written only through the status subresource (kube's reset fields). */
  statusSubresource?: boolean;
}

/** The caller's facts, completed from the built-in kind definitions for callers that pass a GVK only. */
function ownershipKind(gvk: GroupVersionKind, given: OwnershipKind): Required<OwnershipKind> {
  const known = given.schema && given.zeroPaths && given.statusSubresource !== undefined ? undefined : builtinKind(gvk);
  return {
    schema: given.schema ?? known?.mergeSchema ?? genericObject,
    zeroPaths: given.zeroPaths ?? known?.zeroPaths ?? ['metadata'],
    statusSubresource: given.statusSubresource ?? !!known?.subresources?.status,
  };
}

const apiVersionOf = (gvk: GroupVersionKind) => (gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version);

/** One manager's ownership, keyed like BuildManagerIdentifier (JSON without time and fields). */
interface ManagerSet {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

function identifier(m: Pick<ManagerSet, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  const id: JsonObject = { manager: m.manager, operation: m.operation };
  if (m.operation !== 'Apply' && m.apiVersion) id.apiVersion = m.apiVersion;
  if (m.subresource) id.subresource = m.subresource;
  return JSON.stringify(id);
}

type Managers = Map<string, ManagerSet>;

function decodeManagedFields(entries: ManagedFieldsEntry[] | undefined): Managers {
  const managers: Managers = new Map();
  for (const e of entries ?? []) {
    if (!isObject(e) || typeof e.manager !== 'string' || (e.operation !== 'Apply' && e.operation !== 'Update')) {
      throw new Error('invalid managedFields entry');
    }
    const ms: ManagerSet = {
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      ...(e.subresource ? { subresource: e.subresource } : {}),
      ...(e.time ? { time: e.time } : {}),
      set: FieldSet.fromFieldsV1(e.fieldsV1 ?? {}),
    };
    managers.set(identifier(ms), ms);
  }
  return managers;
}

/** Sorted as sortEncodedManagedFields: operation, time, manager, apiVersion, subresource. */
function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const seconds = (t?: string) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...managers.values()]
    .filter((m) => !m.set.isEmpty())
    .sort(
      (p, q) =>
        cmp(p.operation, q.operation) ||
        seconds(p.time) - seconds(q.time) ||
        cmp(p.manager, q.manager) ||
        cmp(p.apiVersion, q.apiVersion) ||
        cmp(p.subresource ?? '', q.subresource ?? ''),
    )
    .map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      ...(m.time ? { time: m.time } : {}),
      fieldsType: 'FieldsV1' as const,
      fieldsV1: m.set.toFieldsV1(),
      ...(m.subresource ? { subresource: m.subresource } : {}),
    }));
}

/** metav1.Time has second precision. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The object as ownership sees it. A shallow view: everything below shares the caller's values,
 * which the walks only read (merge and removeItems build new objects).
 */
function withoutManagedFields(obj: KubeObject | JsonObject | undefined): JsonObject | undefined {
  if (!obj) return undefined;
  if (!isObject(obj.metadata)) return { ...obj };
  const { managedFields: _dropped, ...metadata } = obj.metadata as JsonObject;
  return { ...obj, metadata };
}

/** A new top level and metadata, so setting managedFields never writes into the caller's object. */
function withNewMetadata(obj: KubeObject): KubeObject {
  return { ...obj, metadata: { ...obj.metadata } };
}

/** The object a freshly constructed Go struct of this kind serializes to (see OwnershipKind.zeroPaths). */
function zeroObject(zeroPaths: string[]): JsonObject {
  const root: JsonObject = {};
  for (const path of zeroPaths) {
    const parts = path.split('.');
    let node = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        if (!(part in node)) node[part] = part === 'containers' ? null : {};
      } else {
        node = node[part] as JsonObject;
      }
    });
  }
  return root;
}

/** Which changes count for a writer: kube's reset fields for the main resource and status subresource. */
function ownershipFilter(hasStatus: boolean, subresource: string | undefined): (set: FieldSet) => FieldSet {
  if (subresource === 'status') {
    return (set) => {
      const status = set.at(['f:status']);
      const out = new FieldSet();
      if (set.has(['f:status'])) out.insert(['f:status']);
      if (status) for (const p of status.paths(['f:status'])) out.insert(p);
      return out;
    };
  }
  if (!subresource && hasStatus) {
    return (set) => {
      const out = set.clone();
      out.members.delete('f:status');
      out.children.delete('f:status');
      return out;
    };
  }
  return (set) => set;
}

/**
 * merge.Updater.update: other managers lose what changed (conflicts, unless forced) and what was
 * removed.
 */
function updateOwnership(live: unknown, updated: unknown, schema: StructSchema, managers: Managers, workflow: string, force: boolean, filter: (s: FieldSet) => FieldSet) {
  const cmp = compare(live, updated, schema);
  const changed = filter(cmp.modified.union(cmp.added));
  const removed = filter(cmp.removed);
  const conflicts: { id: string; path: Path }[] = [];
  for (const [id, m] of managers) {
    if (id === workflow) continue;
    for (const path of m.set.intersection(changed).paths()) conflicts.push({ id, path });
  }
  if (conflicts.length && !force) return { cmp, conflicts };
  for (const [id, m] of managers) {
    if (id === workflow) continue;
    m.set = m.set.difference(changed).difference(removed);
    if (m.set.isEmpty()) managers.delete(id);
  }
  return { cmp, conflicts: [] };
}

function printManager(m: ManagerSet): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}

/** The 409 kube-apiserver answers (fieldmanager NewConflictError). */
function conflictError(conflicts: { id: string; path: Path }[], managers: Managers): ApiError {
  const ordered = [...conflicts].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const causes: StatusCause[] = ordered.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(managers.get(c.id)!)}`,
    field: pathText(c.path),
  }));
  let message: string;
  if (ordered.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(managers.get(ordered[0].id)!)}: ${pathText(ordered[0].path)}`;
  } else {
    const lines: string[] = [];
    for (const id of [...new Set(ordered.map((c) => c.id))]) {
      lines.push(`conflicts with ${printManager(managers.get(id)!)}:`);
      for (const c of ordered.filter((x) => x.id === id)) lines.push(`- ${pathText(c.path)}`);
    }
    message = `Apply failed with ${ordered.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

/**
 * Fields kubectl's client-side apply recorded in last-applied-configuration that still hold the
 * recorded value: `kubectl apply --server-side` may take them over (lastAppliedManager).
 */
function allowedFromLastApplied(live: KubeObject, gvk: GroupVersionKind, schema: StructSchema): FieldSet | undefined {
  const raw = live.metadata.annotations?.[lastAppliedAnnotation];
  if (!raw) return undefined;
  try {
    const last = JSON.parse(raw) as unknown;
    if (!isObject(last) || last.apiVersion !== apiVersionOf(gvk)) return undefined;
    const cmp = compare(last, withoutManagedFields(live), schema);
    return toFieldSet(last, schema).difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
  } catch {
    return undefined;
  }
}

function finishManagers(managers: Managers, id: string): void {
  const m = managers.get(id);
  if (!m) return;
  m.set = m.set.difference(stripSet);
  if (m.set.isEmpty()) managers.delete(id);
}

export interface ServerSideApplyArgs extends OwnershipKind {
  /** The stored object, or undefined when the apply creates it. */
  live: KubeObject | undefined;
  /** The configuration sent with `application/apply-patch+yaml`, already parsed. */
  applied: unknown;
  manager: string;
  force: boolean;
  gvk: GroupVersionKind;
  now: Date;
  subresource?: string;
}

export function serverSideApply(args: ServerSideApplyArgs): KubeObject {
  const { live, applied, manager, force, gvk, now, subresource } = args;
  if (!isObject(applied)) throw ApiError.badRequest('error decoding YAML: the applied configuration must be an object');
  const appliedMeta = applied.metadata;
  if (isObject(appliedMeta) && Array.isArray(appliedMeta.managedFields) && appliedMeta.managedFields.length > 0) {
    throw ApiError.badRequest('metadata.managedFields must be nil');
  }
  const { schema, zeroPaths, statusSubresource } = ownershipKind(gvk, args);
  const apiVersion = apiVersionOf(gvk);
  const filter = ownershipFilter(statusSubresource, subresource);
  const liveValue = withoutManagedFields(live) ?? {};
  let managers: Managers;
  try {
    managers = decodeManagedFields(live?.metadata.managedFields);
  } catch (err) {
    throw ApiError.internal(`failed to decode managed fields: ${(err as Error).message}`);
  }

  try {
    // Objects written before anyone tracked fields: their fields belong to "before-first-apply".
    if (live && managers.size === 0) {
      const cmp = compare(zeroObject(zeroPaths), liveValue, schema);
      const set = filter(cmp.added.union(cmp.modified)).difference(stripSet);
      if (!set.isEmpty()) {
        const m: ManagerSet = { manager: beforeFirstApplyManager, operation: 'Update', apiVersion, set };
        managers.set(identifier(m), m);
      }
    }

    const id = identifier({ manager, operation: 'Apply', apiVersion, subresource });
    const previous = managers.get(id);
    const appliedSet = filter(toFieldSet(applied, schema, true));

    const attempt = (forceNow: boolean) => {
      const ms: Managers = new Map([...managers].map(([k, v]) => [k, { ...v, set: v.set.clone() }]));
      let merged = merge(liveValue, applied, schema) as JsonObject;
      ms.set(id, { manager, operation: 'Apply', apiVersion, ...(subresource ? { subresource } : {}), ...(previous?.time ? { time: previous.time } : {}), set: appliedSet });
      // Prune what this manager applied last time, no longer applies, and nobody else owns.
      if (previous) {
        let owned = new FieldSet();
        for (const m of ms.values()) owned = owned.union(m.set);
        const toRemove = new FieldSet();
        for (const p of previous.set.paths()) if (!owned.has(p) && !owned.hasDescendants(p)) toRemove.insert(p);
        if (!toRemove.isEmpty()) merged = (removeItems(merged, toRemove, schema) ?? {}) as JsonObject;
      }
      const { conflicts } = updateOwnership(liveValue, merged, schema, ms, id, forceNow, filter);
      return { merged, ms, conflicts };
    };

    let result = attempt(force);
    if (result.conflicts.length && live && manager === 'kubectl') {
      const allowed = allowedFromLastApplied(live, gvk, schema);
      if (allowed) {
        const remaining = result.conflicts.filter((c) => !allowed.has(c.path));
        if (remaining.length === 0) result = attempt(true);
        else result.conflicts = remaining;
      }
    }
    if (result.conflicts.length) throw conflictError(result.conflicts, managers);

    const { merged, ms } = result;
    finishManagers(ms, id);
    const applier = ms.get(id);
    if (applier && (!deepEqual(merged, liveValue) || !applier.time)) applier.time = rfc3339(now);

    const out = merged as KubeObject;
    if (!isObject(out.metadata)) out.metadata = {};
    if (live && manager === 'kubectl' && live.metadata.annotations?.[lastAppliedAnnotation]) {
      const lastApplied = clone(applied);
      const annotations = isObject((lastApplied.metadata as JsonObject | undefined)?.annotations)
        ? ((lastApplied.metadata as JsonObject).annotations as JsonObject)
        : undefined;
      if (annotations) delete annotations[lastAppliedAnnotation];
      out.metadata.annotations = { ...(out.metadata.annotations ?? {}), [lastAppliedAnnotation]: JSON.stringify(lastApplied) };
    }
    out.metadata.managedFields = encodeManagedFields(ms);
    return out;
  } catch (err) {
    if (err instanceof SchemaError) throw typedPatchError(gvk, err);
    throw err;
  }
}

export interface RecordUpdateArgs extends OwnershipKind {
  /** The stored object before the write, or undefined for a create. */
  live: KubeObject | undefined;
  /** The object about to be stored (after defaults and the strategy's resets). */
  updated: KubeObject;
  manager: string;
  subresource?: string;
  gvk: GroupVersionKind;
  now: Date;
}

/** `managedFields: [{}]` clears ownership; an empty list does not (clients unaware of the field send one). */
function isResetRequest(entries: unknown): boolean {
  return Array.isArray(entries) && entries.length === 1 && isObject(entries[0]) && Object.keys(entries[0]).length === 0;
}

const maxUpdateManagers = 10;
const ancientChangesManager = 'ancient-changes';

/**
 * capManagersManager: beyond ten Update entries, the oldest are folded into one "ancient-changes"
 * entry per API version, so objects touched by many writers keep a bounded managedFields.
 */
function capUpdateManagers(managers: Managers): void {
  const seconds = (t?: string) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  const updaters = [...managers.entries()].filter(([, m]) => m.operation === 'Update').map(([id]) => id);
  if (updaters.length <= maxUpdateManagers) return;
  updaters.sort((a, b) => seconds(managers.get(a)!.time) - seconds(managers.get(b)!.time) || (a < b ? -1 : a > b ? 1 : 0));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > maxUpdateManagers; i++) {
    const id = updaters[i];
    const m = managers.get(id)!;
    const bucket = identifier({ manager: ancientChangesManager, operation: 'Update', apiVersion: m.apiVersion });
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(m.apiVersion, id);
      continue;
    }
    if (!managers.has(bucket)) {
      const firstSet = managers.get(first)!;
      managers.delete(first);
      managers.set(bucket, { manager: ancientChangesManager, operation: 'Update', apiVersion: m.apiVersion, set: firstSet.set, ...(firstSet.time ? { time: firstSet.time } : {}) });
    }
    const b = managers.get(bucket)!;
    b.set = m.set.union(b.set);
    if (m.time) b.time = m.time;
    else delete b.time;
    managers.delete(id);
    length--;
  }
}

/** Ownership for a create, update or non-apply patch (operation Update). */
export function recordUpdate(args: RecordUpdateArgs): KubeObject {
  try {
    return trackUpdate(args);
  } catch {
    // As kube-apiserver's UpdateNoErrors: ownership tracking never fails a write; the stored
    // ownership is kept as it was (e.g. a live list item without its key).
    const out = withNewMetadata(args.updated);
    if (args.live?.metadata.managedFields) out.metadata.managedFields = clone(args.live.metadata.managedFields);
    else delete out.metadata.managedFields;
    return out;
  }
}

function trackUpdate(args: RecordUpdateArgs): KubeObject {
  const { live, updated, manager, subresource, gvk, now } = args;
  const { schema, zeroPaths, statusSubresource } = ownershipKind(gvk, args);
  const apiVersion = apiVersionOf(gvk);
  const requested = updated.metadata?.managedFields as unknown;
  let managers: Managers;
  if (!subresource && isResetRequest(requested)) {
    managers = new Map();
  } else {
    try {
      const fromRequest = !subresource && Array.isArray(requested) && requested.length > 0 ? decodeManagedFields(requested as ManagedFieldsEntry[]) : undefined;
      managers = fromRequest && fromRequest.size > 0 ? fromRequest : decodeManagedFields(live?.metadata.managedFields);
    } catch {
      managers = decodeManagedFields(live?.metadata.managedFields);
    }
  }
  const out = withNewMetadata(updated);
  // An existing object nobody tracks stays untracked until someone applies (skipNonAppliedManager).
  if (live && managers.size === 0) {
    delete out.metadata.managedFields;
    return out;
  }

  const filter = ownershipFilter(statusSubresource, subresource);
  const before = withoutManagedFields(live) ?? zeroObject(zeroPaths);
  const after = withoutManagedFields(updated);
  const currentId = identifier({ manager: currentOperation, operation: 'Update', apiVersion, subresource });
  const { cmp } = updateOwnership(before, after, schema, managers, currentId, true, filter);
  const taken = filter(cmp.added.union(cmp.modified)).difference(stripSet);

  if (!taken.isEmpty()) {
    const id = identifier({ manager, operation: 'Update', apiVersion, subresource });
    const previous = managers.get(id);
    managers.set(id, {
      manager,
      operation: 'Update',
      apiVersion,
      ...(subresource ? { subresource } : {}),
      time: rfc3339(now),
      set: previous ? taken.union(previous.set) : taken,
    });
  }
  capUpdateManagers(managers);
  out.metadata.managedFields = encodeManagedFields(managers);
  if (out.metadata.managedFields.length === 0 && !live) delete out.metadata.managedFields;
  return out;
}
