/**
 * What the generic registry needs to know about one served resource (one version of a kind):
 * its names for discovery, its scope, its subresources, its strategy (defaults, validation,
 * deletion hooks), how it merges and prints. Kinds written in code declare these in a
 * KindDefinition (kind.ts, kinds/); custom resources get them from their CRD (registry.ts).
 */
import type { UserInfo } from './kinds/authentication/user.js';
import type { ClusterAuth } from './kinds/authentication/cluster-auth.js';
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import type { StructSchema } from './patch/merge-schema.js';
import type { KindPrinter } from './printers/columns.js';

export interface StrategyContext {
  /** The live object on update/patch; undefined on create. */
  old?: KubeObject;
  now: Date;
  /** The subresource written through (`status`, `ephemeralcontainers`), if any. */
  subresource?: string;
}

export interface Strategy {
  /** Whether metadata.generation tracks spec changes (true for kinds with a spec). */
  readonly generation?: boolean;
  /** Clears/initialises fields on create (e.g. a fresh status), like PrepareForCreate. */
  prepareForCreate?(obj: KubeObject, ctx: StrategyContext): void;
  /** Clears/keeps fields on update from the live object (PrepareForUpdate); not for the status subresource. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): void;
  /** Fills defaults, like the scheme's defaulting functions. Runs on create and update. */
  defaults?(obj: KubeObject, ctx: StrategyContext): void;
  validate?(obj: KubeObject, ctx: StrategyContext): FieldError[];
  validateUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): FieldError[];
  /** Field selector values besides metadata.name/namespace (e.g. status.phase). */
  fieldLabels?(obj: KubeObject): Record<string, string>;
  /**
   * Graceful deletion (kube's CheckGracefulDelete): seconds the object lingers with a
   * deletionTimestamp before it goes; 0 deletes at once. `kubeletRunning` is false while no
   * simulated kubelet exists to finish the deletion (a Pod then goes at once).
   */
  gracePeriod?(obj: KubeObject, options: { gracePeriodSeconds?: number }, kubeletRunning: boolean): number;
  /**
   * Finalization the kind runs itself besides metadata.finalizers (a Namespace's spec.finalizers,
   * emptied through its finalize subresource). While `pending`, a delete only marks the object
   * (after `start`) and an update never removes it (kube's ShouldDeleteDuringUpdate).
   */
  finalization?: { pending(obj: KubeObject): boolean; start?(obj: KubeObject): void };
}

export interface ScaleSubresource {
  specReplicasPath: string[];
  statusReplicasPath: string[];
  /** Path to a label selector string (CRDs) or to the kind's structured selector. */
  labelSelectorPath?: string[];
  /** Built-ins use spec.selector (a LabelSelector); CRDs give a string path. */
  structuredSelector?: boolean;
}

/** One subresource besides status and scale (exec, log, finalize…), as discovery lists it. */
export interface ExtraSubresource {
  name: string;
  /** The kind the subresource answers with (PodExecOptions…); group/version default to core v1. */
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
  /**
   * Served by the kind itself (a Namespace's finalize, a Pod's eviction). Without it, or when
   * another module registered a handler with the API server (exec, log, proxy…), that handler serves.
   */
  serve?(call: SubresourceCall): Promise<SubresourceAnswer>;
}

/** One request to a subresource a kind serves itself. */
export interface SubresourceCall {
  method: string;
  namespace: string;
  name: string;
  /** The decoded request body (400 when empty). */
  body(): Promise<Record<string, any>>;
  /** The generic store's operations on the addressed object, with the request's options. */
  object: {
    get(): KubeObject;
    update(obj: KubeObject): Promise<KubeObject>;
    delete(options: { gracePeriodSeconds?: number; propagationPolicy?: 'Orphan' | 'Background' | 'Foreground'; preconditions?: { uid?: string; resourceVersion?: string } }): Promise<unknown>;
  };
}

/** An object (negotiated: JSON, YAML, Table…) or a plain Status body. */
export type SubresourceAnswer = { code: number; object: KubeObject } | { code: number; status: object };

/**
 * An OpenAPI schema a kind brings (kinds the kubernetes-models package does not describe):
 * component schemas by name, `component` naming the kind's own.
 */
export interface KindOpenApi {
  component: string;
  schemas: Record<string, object>;
}

export interface ResourceDef {
  group: string;
  version: string;
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  /** A status subresource: main updates keep status, status updates keep everything else. */
  status?: boolean;
  scale?: ScaleSubresource;
  /** Other subresources (exec, log, finalize…): served by the kind or by registered handlers. */
  extraSubresources?: ExtraSubresource[];
  strategy: Strategy;
  /** Where objects live in the store; versions of one group/resource share it. */
  bucket: string;
  /** Set for custom resources; names the CRD that defines it. */
  crd?: string;
  /** CRD additionalPrinterColumns for this version. */
  printerColumns?: unknown[];
  /** Whether this version is the group's preferred one in discovery. */
  preferred?: boolean;
  /**
   * For a version stored in another version's shape (autoscaling/v1 HPAs are stored as v2):
   * conversion at the store boundary, as kube-apiserver converts to the storage version.
   */
  convert?: { toStorage(o: KubeObject): KubeObject; fromStorage(o: KubeObject): KubeObject };
  /**
   * PUT of a missing object creates it (kube's AllowCreateOnUpdate: endpoints, events, limit
   * ranges, leases, the RBAC kinds); for every other kind it is a 404.
   */
  allowCreateOnUpdate?: boolean;
  /** Create-only review kinds (SelfSubjectAccessReview…): answered, never stored. */
  review?: (obj: KubeObject, ctx: ReviewContext) => KubeObject;
  /** A delete answers with the deleted object instead of a Status (kube's ReturnDeletedObject: pods). */
  returnDeletedObject?: boolean;
  /** Server-side printing (kube's TableConvertor); absent: kube's default table or the CRD's columns. */
  printer?: KindPrinter;
  /** How objects merge (strategic merge patch, server-side apply); absent: deduced from the objects. */
  mergeSchema?: StructSchema;
  /**
   * Dot paths a zero Go object of the kind already has (non-pointer structs, fields without
   * omitempty): managed fields of a create do not claim them. Absent: ['metadata'].
   */
  zeroPaths?: string[];
  /** The kind's own OpenAPI schema, when kubernetes-models has none. */
  openapi?: KindOpenApi;
}

/** What a review kind answers from: who asks, where, and the cluster's authenticator and authorizer. */
export interface ReviewContext {
  user: UserInfo;
  namespace: string;
  auth?: ClusterAuth;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
export const NO_COLLECTION_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

/** Reads a nested path, e.g. ['spec','replicas']. */
export function getPath(obj: unknown, path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur: Record<string, unknown> = obj;
  for (const p of path.slice(0, -1)) {
    if (cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}
