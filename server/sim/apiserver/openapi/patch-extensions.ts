/**
 * The merge semantics kube-apiserver publishes in its OpenAPI (`x-kubernetes-patch-strategy`,
 * `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`), taken
 * from the kind's merge schema (k8s.io/api struct tags). kubectl 1.32 computes the strategic
 * merge patch of `kubectl apply` from these: without them it treats every list as atomic and sends
 * whole lists, so an item removed from a manifest (an env var, a port) would never be removed.
 */
import { fieldSchema, itemSchema, type Schema as PatchSchema, type StructSchema } from '../../registry/patch/merge-schema.js';
import { REF_PREFIX, type Schema } from './k8s-models-source.js';

const refOf = (s: Schema | undefined): string | undefined => {
  const ref = s?.$ref ?? s?.allOf?.[0]?.$ref;
  return ref?.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
};

/**
 * Annotates, in place, the definitions of `schemas` reachable from the kind's root definition.
 * `schemas` must be this document's own copies.
 */
export function addPatchExtensions(schemas: Record<string, Schema>, rootDefinition: string, mergeSchema: StructSchema | undefined): void {
  const seen = new Set<string>();
  const visit = (definition: string, patch: PatchSchema | undefined): void => {
    if (!patch || seen.has(definition)) return;
    const def = schemas[definition];
    if (!def?.properties) return;
    seen.add(definition);
    for (const [field, prop] of Object.entries(def.properties)) {
      const p = fieldSchema(patch, field);
      if (!p) continue;
      annotate(prop, p);
      const target = p.kind === 'list' ? itemSchema(p) : p.kind === 'map' ? fieldSchema(p, '*') : p;
      const nested = p.kind === 'list' ? prop.items : p.kind === 'map' && typeof prop.additionalProperties === 'object' ? prop.additionalProperties : prop;
      const ref = refOf(nested);
      if (ref) visit(ref, target);
    }
  };
  visit(rootDefinition, mergeSchema);
}

function annotate(prop: Schema, p: PatchSchema): void {
  if (p.kind === 'list') {
    if (p.smp === 'merge') {
      prop['x-kubernetes-patch-strategy'] = p.retainKeys ? 'merge,retainKeys' : 'merge';
      if (p.mergeKey) prop['x-kubernetes-patch-merge-key'] = p.mergeKey;
    }
    prop['x-kubernetes-list-type'] = p.ssa;
    if (p.ssa === 'map' && p.keys?.length) prop['x-kubernetes-list-map-keys'] = p.keys;
  } else if (p.kind === 'struct') {
    if (p.retainKeys) prop['x-kubernetes-patch-strategy'] = 'retainKeys';
    else if (p.replace) prop['x-kubernetes-patch-strategy'] = 'replace';
    if (p.atomic) prop['x-kubernetes-map-type'] = 'atomic';
  } else if (p.kind === 'map' && p.atomic) {
    prop['x-kubernetes-map-type'] = 'atomic';
  }
}
