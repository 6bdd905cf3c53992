/** RFC 7386 JSON merge patch, as evanphx/json-patch's MergePatch applies it for kube-apiserver. */

import { ApiError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { clone, isObject, type JsonObject } from './json.js';

export function mergeValues(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergeValues(out[k], v);
  }
  return out;
}

export function applyMergePatch(obj: KubeObject, patch: unknown): KubeObject {
  // evanphx answers ErrBadJSONPatch for a patch that is not an object (null, scalars);
  // an array would replace the whole object, which can never decode as one.
  if (!isObject(patch)) throw ApiError.badRequest('Invalid JSON Patch');
  return mergeValues(clone(obj), patch) as KubeObject;
}
