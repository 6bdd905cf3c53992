/**
 * The merge table as OpenAPI extensions (`x-kubernetes-patch-strategy`, `-patch-merge-key`,
 * `-list-type`, `-list-map-keys`, `-map-type`), per definition and property, so the cluster's
 * OpenAPI documents tell clients what the server does. kubectl's client-side apply computes its
 * three-way patch from these: without them it sends whole lists and can never delete a container,
 * an env var or a port from a Deployment.
 */

import { BUILTIN_KINDS } from '../kinds/index.js';
import { resolve, types, type Schema, type StructSchema } from './merge-schema.js';

export type PropertyExtensions = Record<string, string | string[]>;

function extensionsOf(s: Schema): PropertyExtensions {
  const ext: PropertyExtensions = {};
  if (s.kind === 'list') {
    if (s.smp === 'merge') {
      ext['x-kubernetes-patch-strategy'] = s.retainKeys ? 'merge,retainKeys' : 'merge';
      if (s.mergeKey) ext['x-kubernetes-patch-merge-key'] = s.mergeKey;
    }
    ext['x-kubernetes-list-type'] = s.ssa;
    if (s.ssa === 'map' && s.keys) ext['x-kubernetes-list-map-keys'] = s.keys;
  } else if (s.kind === 'struct') {
    if (s.retainKeys) ext['x-kubernetes-patch-strategy'] = 'retainKeys';
    else if (s.replace) ext['x-kubernetes-patch-strategy'] = 'replace';
  } else if (s.atomic) {
    ext['x-kubernetes-map-type'] = 'atomic';
  }
  return ext;
}

/**
 * Go type names the schemas describe: the shared types, each built-in kind's root and, inline in
 * it, its `${Kind}Spec` and `${Kind}Status`.
 */
function namedStructs(): Map<string, StructSchema> {
  const named = new Map<string, StructSchema>();
  const roots = BUILTIN_KINDS.filter((k) => k.mergeSchema).map((k) => [k.kind, k.mergeSchema!] as const);
  for (const [name, schema] of [...Object.entries(types), ...roots]) {
    if (schema.kind !== 'struct') continue;
    named.set(name, schema);
    for (const part of ['spec', 'status'] as const) {
      const ref = schema.fields[part];
      if (ref !== undefined && typeof ref !== 'string') {
        const inline = resolve(ref);
        if (inline?.kind === 'struct') named.set(`${name}${part === 'spec' ? 'Spec' : 'Status'}`, inline);
      }
    }
  }
  // One table entry stands for both webhook kinds.
  const webhook = named.get('Webhook');
  if (webhook) {
    named.set('ValidatingWebhook', webhook);
    named.set('MutatingWebhook', webhook);
  }
  return named;
}

let cache: Map<string, Record<string, PropertyExtensions>> | undefined;

function table(): Map<string, Record<string, PropertyExtensions>> {
  if (cache) return cache;
  cache = new Map();
  for (const [name, schema] of namedStructs()) {
    const props: Record<string, PropertyExtensions> = {};
    for (const [field, ref] of Object.entries(schema.fields)) {
      const resolved = resolve(ref);
      if (!resolved) continue;
      const ext = extensionsOf(resolved);
      if (Object.keys(ext).length) props[field] = ext;
    }
    if (Object.keys(props).length) cache.set(name, props);
  }
  return cache;
}

/**
 * Extensions for the properties of one OpenAPI definition, by its full name
 * (`io.k8s.api.core.v1.PodSpec`) or Go type name (`PodSpec`). Undefined: nothing to add.
 */
export function openAPIPatchExtensions(definition: string): Record<string, PropertyExtensions> | undefined {
  const short = definition.slice(definition.lastIndexOf('.') + 1);
  return table().get(short);
}

/** Every definition the table annotates (Go type names), for documents built eagerly. */
export function annotatedDefinitions(): string[] {
  return [...table().keys()].sort();
}
