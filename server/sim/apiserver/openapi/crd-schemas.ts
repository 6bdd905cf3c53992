/**
 * A CustomResourceDefinition's served versions as OpenAPI component schemas, shaped as
 * apiextensions-apiserver publishes them (pkg/controller/openapi/builder): the version's
 * openAPIV3Schema with apiVersion/kind/metadata filled in and the GVK extension.
 */
import type { KubeObject } from '../../types.js';
import { API_VERSION_DESCRIPTION, KIND_DESCRIPTION, REF_PREFIX, type Schema } from './k8s-models-source.js';

export interface CrdVersionInfo {
  crd: KubeObject;
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  subresources: string[];
  /** The version's openAPIV3Schema, if any. */
  schema?: Schema;
}

interface CrdSpec {
  group?: string;
  scope?: string;
  names?: { kind?: string; plural?: string };
  validation?: { openAPIV3Schema?: Schema };
  versions?: {
    name: string;
    served?: boolean;
    schema?: { openAPIV3Schema?: Schema };
    subresources?: { status?: object; scale?: object };
  }[];
}

export function crdServedVersions(crd: KubeObject): CrdVersionInfo[] {
  const spec = (crd.spec ?? {}) as CrdSpec;
  if (!spec.group || !spec.names?.kind || !spec.names.plural) return [];
  return (spec.versions ?? [])
    .filter((v) => v.served !== false)
    .map((v) => ({
      crd,
      group: spec.group!,
      version: v.name,
      kind: spec.names!.kind!,
      plural: spec.names!.plural!,
      namespaced: spec.scope !== 'Cluster',
      subresources: Object.keys(v.subresources ?? {}).filter((s) => s === 'status' || s === 'scale'),
      schema: v.schema?.openAPIV3Schema ?? spec.validation?.openAPIV3Schema,
    }));
}

/** `networking.istio.io`, `v1`, `VirtualService` → `io.istio.networking.v1.VirtualService`. */
export function crdComponentName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

const METADATA_DESCRIPTION = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

export function crdVersionSchema(v: CrdVersionInfo): Schema {
  const base: Schema = v.schema ? structuredClone(v.schema) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const properties = { ...(base.properties ?? {}) };
  properties.apiVersion = { description: API_VERSION_DESCRIPTION, type: 'string', ...stripType(properties.apiVersion) };
  properties.kind = { description: KIND_DESCRIPTION, type: 'string', ...stripType(properties.kind) };
  properties.metadata = { description: METADATA_DESCRIPTION, allOf: [{ $ref: `${REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` }] };
  return {
    ...base,
    type: 'object',
    properties,
    'x-kubernetes-group-version-kind': [{ group: v.group, kind: v.kind, version: v.version }],
  };
}

function stripType(s: Schema | undefined): Schema {
  if (!s) return {};
  const { type: _t, ...rest } = s;
  return rest;
}
