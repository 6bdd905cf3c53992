/**
 * A kind written in code, declared in one place: what kube-apiserver spreads over a kind's
 * `strategy.go` (defaults, validation, deletion hooks) and `storage/storage.go` (names, short
 * names, categories, subresources, table convertor), plus how it merges and, when the
 * kubernetes-models package does not know it, its OpenAPI schema. The built-in kinds live in
 * kinds/ (one module each, listed in kinds/index.ts); an add-on registers more with
 * `ResourceRegistry.addKind`. Discovery, OpenAPI, Tables, managed fields and strategic merge
 * are all derived from these definitions.
 */
import type { ObjectStore } from '../storage/store.js';
import { bucketOf } from '../storage/store.js';
import type { StructSchema } from './patch/merge-schema.js';
import type { KindPrinter } from './printers/columns.js';
import { ALL_VERBS, type ExtraSubresource, type KindOpenApi, type ResourceDef, type ScaleSubresource, type Strategy } from './resource.js';

/** Per-cluster state a strategy may need (the Service kind allocates from the stored Services). */
export interface KindEnvironment {
  store: ObjectStore;
}

export interface KindDefinition {
  /** API group, '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** Names as a CRD spells them: plural is the resource in URLs; singular defaults to kind lowercased. */
  names: { plural: string; singular?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  scope: 'Namespaced' | 'Cluster';
  /** Discovery verbs; all eight by default. */
  verbs?: string[];
  /** Whether discovery prefers this version of the group (default true). */
  preferred?: boolean;
  /** Defaults, validation and deletion hooks; a function when it needs the cluster's state. */
  strategy: Strategy | ((env: KindEnvironment) => Strategy);
  subresources?: {
    /** A status subresource: main writes keep status, status writes keep everything else. */
    status?: boolean;
    /** `true`: spec.replicas / status.replicas with spec.selector, as the built-in workloads have it. */
    scale?: true | ScaleSubresource;
    others?: ExtraSubresource[];
  };
  storage?: {
    /** Stored with another resource (events.k8s.io Events are core Events). */
    sharedWith?: { group: string; resource: string };
    /** Conversion at the store boundary for a version stored in another's shape. */
    convert?: ResourceDef['convert'];
    /** PUT of a missing object creates it (kube's AllowCreateOnUpdate). */
    allowCreateOnUpdate?: boolean;
    /** A delete answers with the deleted object instead of a Status (kube's ReturnDeletedObject). */
    returnDeletedObject?: boolean;
  };
  /** Create-only review kinds: answered, never stored. */
  review?: ResourceDef['review'];
  /** How objects merge: SMP patch strategies and SSA list types; absent: deduced from the objects. */
  mergeSchema?: StructSchema;
  /** Paths a zero Go object of the kind already has; ['metadata'] when absent. */
  zeroPaths?: string[];
  /** Server-side Table columns and cells; absent: kube's default table (NAME, CREATED AT). */
  printer?: KindPrinter;
  /** The kind's OpenAPI schema when kubernetes-models does not describe it. */
  openapi?: KindOpenApi;
}

const BUILTIN_SCALE: ScaleSubresource = { specReplicasPath: ['spec', 'replicas'], statusReplicasPath: ['status', 'replicas'], structuredSelector: true };

/** The facts of a definition that need no cluster (everything but a strategy built per cluster). */
export function kindFacts(def: KindDefinition): Omit<ResourceDef, 'strategy'> {
  const s = def.subresources ?? {};
  const st = def.storage ?? {};
  return {
    group: def.group,
    version: def.version,
    resource: def.names.plural,
    kind: def.kind,
    listKind: def.names.listKind ?? `${def.kind}List`,
    singular: def.names.singular ?? def.kind.toLowerCase(),
    namespaced: def.scope === 'Namespaced',
    ...(def.names.shortNames ? { shortNames: def.names.shortNames } : {}),
    ...(def.names.categories ? { categories: def.names.categories } : {}),
    verbs: def.verbs ?? ALL_VERBS,
    ...(s.status ? { status: true } : {}),
    ...(s.scale ? { scale: s.scale === true ? BUILTIN_SCALE : s.scale } : {}),
    ...(s.others ? { extraSubresources: s.others } : {}),
    bucket: st.sharedWith ? bucketOf(st.sharedWith.group, st.sharedWith.resource) : bucketOf(def.group, def.names.plural),
    preferred: def.preferred ?? true,
    ...(st.convert ? { convert: st.convert } : {}),
    ...(st.allowCreateOnUpdate ? { allowCreateOnUpdate: true } : {}),
    ...(st.returnDeletedObject ? { returnDeletedObject: true } : {}),
    ...(def.review ? { review: def.review } : {}),
    ...(def.printer ? { printer: def.printer } : {}),
    ...(def.mergeSchema ? { mergeSchema: def.mergeSchema } : {}),
    ...(def.zeroPaths ? { zeroPaths: def.zeroPaths } : {}),
    ...(def.openapi ? { openapi: def.openapi } : {}),
  };
}

/** The served resource of a definition in one cluster. */
export function resolveKind(def: KindDefinition, env: KindEnvironment): ResourceDef {
  return { ...kindFacts(def), strategy: typeof def.strategy === 'function' ? def.strategy(env) : def.strategy };
}

/** Whether a definition is the one for this group/version/kind. */
export const isKind = (def: KindDefinition, gvk: { group: string; version: string; kind: string }) =>
  def.group === gvk.group && def.version === gvk.version && def.kind === gvk.kind;

