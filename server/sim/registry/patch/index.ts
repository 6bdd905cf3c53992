/**
 * The patch library of the embedded cluster: pure functions, no I/O. The REST handler picks the
 * algorithm from the request's Content-Type and records field ownership on every write.
 */

import { ApiError } from '../../errors.js';
import type { GroupVersionKind, KubeObject } from '../../types.js';
import { applyJsonPatch } from './json-patch.js';
import { serverSideApply } from './managed-fields.js';
import { applyMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch } from './strategic-merge.js';

export { applyJsonPatch, jsonPatchInvalid, maxJsonPatchOperations } from './json-patch.js';
export { applyMergePatch } from './merge-patch.js';
export { applyStrategicMergePatch, strategicMergeUnsupported, supportsStrategicMerge } from './strategic-merge.js';
export { lastAppliedAnnotation, recordUpdate, serverSideApply, type RecordUpdateArgs, type ServerSideApplyArgs } from './managed-fields.js';
export { FieldSet } from './fieldset.js';
export { schemaFromOpenAPI, type StructSchema } from './merge-schema.js';
export { annotatedDefinitions, openAPIPatchExtensions, type PropertyExtensions } from './openapi-extensions.js';

/** The Content-Types kube-apiserver accepts on PATCH. */
export type PatchType =
  | 'application/json-patch+json'
  | 'application/merge-patch+json'
  | 'application/strategic-merge-patch+json'
  | 'application/apply-patch+yaml';

export const patchTypes: readonly PatchType[] = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

export function isPatchType(contentType: string): contentType is PatchType {
  return (patchTypes as readonly string[]).includes(contentType);
}

/** What a server-side apply needs beyond the object and the body. */
export interface ApplyOptions {
  manager: string;
  force: boolean;
  now: Date;
}

/**
 * Applies a parsed patch body. JSON, merge and strategic patches leave managedFields to the
 * caller (recordUpdate); an apply patch (which needs `apply`) returns the object with them.
 * `obj` undefined is only meaningful for an apply that creates.
 */
export function applyPatch(type: PatchType, obj: KubeObject | undefined, patch: unknown, gvk: GroupVersionKind, apply?: ApplyOptions): KubeObject {
  if (type === 'application/apply-patch+yaml') {
    if (!apply) throw ApiError.internal('server-side apply needs a field manager');
    return serverSideApply({ live: obj, applied: patch, manager: apply.manager, force: apply.force, gvk, now: apply.now });
  }
  if (!obj) throw ApiError.internal(`${type} needs an existing object`);
  switch (type) {
    case 'application/json-patch+json':
      return applyJsonPatch(obj, patch);
    case 'application/merge-patch+json':
      return applyMergePatch(obj, patch);
    case 'application/strategic-merge-patch+json':
      return applyStrategicMergePatch(obj, patch, gvk);
  }
}
