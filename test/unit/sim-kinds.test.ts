/**
 * The tables derived from the kind definitions agree with each other and with Kubernetes 1.32:
 * discovery, OpenAPI and field ownership see the same status subresources; merge schemas name
 * fields the API has; printers fill every column they declare.
 */
import { describe, expect, it } from 'vitest';
import { apiResourceList } from '../../server/sim/apiserver/discovery.js';
import { openapiV3Document } from '../../server/sim/apiserver/openapi/index.js';
import { kindFacts, type KindDefinition } from '../../server/sim/registry/kind.js';
import { BUILTIN_KINDS, builtinKind } from '../../server/sim/registry/kinds/index.js';
import { serverSideApply } from '../../server/sim/registry/patch/index.js';
import { resolve } from '../../server/sim/registry/patch/merge-schema.js';
import type { KubeObject } from '../../server/sim/types.js';

type Obj = Record<string, any>;

const apiVersion = (k: KindDefinition) => (k.group ? `${k.group}/${k.version}` : k.version);
const gvPath = (k: KindDefinition) => (k.group ? `apis/${k.group}/${k.version}` : `api/${k.version}`);
const published = BUILTIN_KINDS.filter((k) => (k.verbs ?? ['get']).includes('get'));
const facts = BUILTIN_KINDS.map((k) => ({ ...kindFacts(k), strategy: {} }));

/** What field ownership does with status on the main resource: owned (no subresource) or not. */
function ownsStatusOnMainResource(k: KindDefinition): boolean {
  const applied = { apiVersion: apiVersion(k), kind: k.kind, metadata: { name: 'x' }, status: { observedGeneration: 1 } };
  const out = serverSideApply({ live: undefined, applied, manager: 'test', force: false, gvk: { group: k.group, version: k.version, kind: k.kind }, now: new Date() });
  return (out.metadata.managedFields ?? []).some((m) => 'f:status' in (m.fieldsV1 ?? {}));
}

/** The component of a kind in its group-version's OpenAPI document, with $refs followed. */
function component(k: KindDefinition): { doc: Obj; schema: Obj } {
  const doc = openapiV3Document(gvPath(k), { crds: [] }) as Obj;
  const schema = Object.values(doc.components.schemas as Record<string, Obj>).find((c) => c['x-kubernetes-group-version-kind']?.some((g: Obj) => g.group === k.group && g.version === k.version && g.kind === k.kind));
  if (!schema) throw new Error(`no OpenAPI component for ${apiVersion(k)} ${k.kind}`);
  return { doc, schema };
}

const deref = (doc: Obj, s: Obj | undefined): Obj | undefined => {
  const ref: string | undefined = s?.$ref ?? s?.allOf?.[0]?.$ref;
  return ref ? doc.components.schemas[ref.split('/').pop()!] : s;
};

describe('kind definitions', () => {
  it('name each group/version/resource once', () => {
    const keys = facts.map((d) => `${d.group}/${d.version}/${d.resource}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(BUILTIN_KINDS.map((k) => [`${apiVersion(k)} ${k.kind}`, k] as const))('%s: discovery, OpenAPI and field ownership agree on the status subresource', (_, k) => {
    const status = !!k.subresources?.status;
    const listed = (apiResourceList(facts, k.group, k.version) as { resources: { name: string }[] }).resources.map((r) => r.name);
    expect(listed.includes(`${k.names.plural}/status`)).toBe(status);
    expect(ownsStatusOnMainResource(k)).toBe(!status);
    if (published.includes(k)) {
      const { doc } = component(k);
      const statusPaths = Object.keys(doc.paths).filter((p) => p.endsWith(`/${k.names.plural}/{name}/status`));
      expect(statusPaths.length > 0).toBe(status);
    }
  });

  it('serve NetworkPolicy without status, as 1.32 does (NetworkPolicyStatus was removed in 1.27)', () => {
    const netpol = builtinKind({ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' })!;
    expect(netpol.subresources?.status).toBeFalsy();
    expect(component(netpol).schema.properties.status).toBeUndefined();
  });

  it.each(published.filter((k) => k.mergeSchema).map((k) => [`${apiVersion(k)} ${k.kind}`, k] as const))('%s: the merge schema names fields the API has', (_, k) => {
    const { doc, schema } = component(k);
    const missing: string[] = [];
    const walk = (merge: Obj | undefined, api: Obj | undefined, path: string, depth: number) => {
      if (!merge || merge.kind !== 'struct' || !api || depth > 2) return;
      for (const [field, ref] of Object.entries(merge.fields as Record<string, unknown>)) {
        const prop = api.properties?.[field];
        if (!prop) {
          missing.push(`${path}${field}`);
          continue;
        }
        const sub = resolve(ref as never);
        const target = sub?.kind === 'list' ? deref(doc, deref(doc, prop)?.items ?? prop.items) : deref(doc, prop);
        walk(sub?.kind === 'list' ? resolve(sub.items as never) : sub, target, `${path}${field}.`, depth + 1);
      }
    };
    walk(k.mergeSchema, schema, '', 0);
    expect(missing).toEqual([]);
  });

  it.each(BUILTIN_KINDS.filter((k) => k.printer).map((k) => [`${apiVersion(k)} ${k.kind}`, k] as const))('%s: the printer fills every column, even for a bare object', (_, k) => {
    const bare = { apiVersion: apiVersion(k), kind: k.kind, metadata: { name: 'x', creationTimestamp: '2026-01-01T00:00:00Z' } } as KubeObject;
    expect(k.printer!.cells(bare, new Date('2026-01-01T00:01:00Z'))).toHaveLength(k.printer!.columns.length);
  });
});
