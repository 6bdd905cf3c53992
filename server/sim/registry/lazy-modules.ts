/**
 * The registry's collaborators that live in sibling modules (patching and managed fields,
 * server-side printing, OpenAPI, field validation). They are resolved once per process at
 * start-up; should one fail to load, the registry answers loudly that the feature is missing,
 * never with a silent success.
 */
import { ApiError, type FieldError } from '../errors.js';
import type { GroupVersionKind, KubeObject } from '../types.js';
import type { StructSchema } from './patch/merge-schema.js';
import type { KindPrinter } from './printers/columns.js';
import type { ResourceDef } from './resource.js';

export interface PatchModule {
  applyJsonPatch(obj: KubeObject, ops: unknown): KubeObject;
  applyMergePatch(obj: KubeObject, patch: unknown): KubeObject;
  applyStrategicMergePatch(obj: KubeObject, patch: unknown, gvk: GroupVersionKind, schema?: StructSchema): KubeObject;
  serverSideApply(a: { live: KubeObject | undefined; applied: KubeObject; manager: string; force: boolean; gvk: GroupVersionKind; now: Date; subresource?: string } & OwnershipKind): KubeObject;
  recordUpdate(a: { live: KubeObject | undefined; updated: KubeObject; manager: string; subresource?: string; gvk: GroupVersionKind; now: Date } & OwnershipKind): KubeObject;
  /** A custom resource's field-ownership schema from its CRD version's openAPIV3Schema. */
  schemaFromOpenAPI(openAPIV3Schema: unknown): StructSchema;
}

/** What field ownership needs to know about the kind (from its served resource). */
export interface OwnershipKind {
  schema?: StructSchema;
  zeroPaths?: string[];
  statusSubresource?: boolean;
}

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface PrintersModule {
  printTable(a: { group: string; version: string; resource: string; objects: KubeObject[]; now: Date; customColumns?: unknown[]; printer?: KindPrinter | null }): {
    columnDefinitions: TableColumn[];
    rows: { cells: unknown[]; object: KubeObject }[];
  };
}

/** What the OpenAPI documents are built from: the served kinds written in code and the CRDs. */
export interface OpenApiSource {
  crds: KubeObject[];
  /** Served resources that are not a CRD's; the built-in kinds when absent. */
  kinds?: readonly Pick<ResourceDef, 'group' | 'version' | 'kind' | 'resource' | 'namespaced' | 'verbs' | 'status' | 'scale' | 'mergeSchema' | 'openapi'>[];
}

export interface OpenApiModule {
  openapiV3Discovery(src: OpenApiSource): object;
  openapiV3Document(path: string, src: OpenApiSource): object | undefined;
  openapiV2Document(src: OpenApiSource, format: 'json' | 'protobuf'): string | Buffer;
  /** Builds the most requested documents in the background, off the request path. */
  prewarmOpenApi?(): void;
}

export interface ValidationModule {
  checkFields(a: {
    gvk: GroupVersionKind;
    object: KubeObject;
    mode: 'Strict' | 'Warn' | 'Ignore';
    crds: KubeObject[];
    verb?: 'create' | 'update' | 'patch';
    patch?: { type: 'strategic' | 'merge' | 'json'; body: unknown };
  }): { warnings: string[] };
  /** The object without the fields its schema does not know (what a Warn/Ignore decode keeps). */
  dropUnknownFields(a: { gvk: GroupVersionKind; object: KubeObject; crds: KubeObject[] }): KubeObject;
  /** A custom resource checked against its CRD version's openAPIV3Schema. */
  validateCustomResource(a: { crd: KubeObject; version: string; object: unknown }): FieldError[];
}

export interface LazyModules {
  patch?: PatchModule;
  printers?: PrintersModule;
  openapi?: OpenApiModule;
  validation?: ValidationModule;
}

/** Literal specifiers, so a bundler splits each into a chunk of its own, loaded on first use. */
const MODULES: Record<keyof LazyModules, () => Promise<unknown>> = {
  patch: () => import('./patch/index.js'),
  printers: () => import('./printers/index.js'),
  openapi: () => import('../apiserver/openapi/index.js'),
  validation: () => import('./validation/index.js'),
};

let loading: Promise<LazyModules> | undefined;

/** Imports the sibling modules. Stateless modules, so one import serves every cluster. */
export function loadLazyModules(): Promise<LazyModules> {
  loading ??= (async () => {
    const out: LazyModules = {};
    await Promise.all(
      (Object.keys(MODULES) as (keyof LazyModules)[]).map(async (k) => {
        try {
          (out as Record<string, unknown>)[k] = await MODULES[k]();
        } catch (e) {
          // The registry then answers requests needing it with a loud "not supported".
          console.error(`sim: could not load the ${k} module:`, (e as Error).message);
        }
      }),
    );
    return out;
  })();
  return loading;
}

export function requirePatch(p: LazyModules, what: string): PatchModule {
  if (!p.patch) throw ApiError.notSupported(what);
  return p.patch;
}
