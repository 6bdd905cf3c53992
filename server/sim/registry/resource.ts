/**
 * What the generic registry needs to know about one kind: its names for discovery, its scope,
 * its subresources, and its strategy (defaults + validation), as kube-apiserver's
 * `registry/<group>/<kind>/strategy.go` files supply.
 */
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';

export interface StrategyContext {
  /** The live object on update/patch; undefined on create. */
  old?: KubeObject;
  now: Date;
}

export interface Strategy {
  /** Whether metadata.generation tracks spec changes (true for kinds with a spec). */
  readonly generation?: boolean;
  /** Clears/initialises fields on create (e.g. a fresh status), like PrepareForCreate. */
  prepareForCreate?(obj: KubeObject, ctx: StrategyContext): void;
  /** Fills defaults, like the scheme's defaulting functions. Runs on create and update. */
  defaults?(obj: KubeObject, ctx: StrategyContext): void;
  validate?(obj: KubeObject, ctx: StrategyContext): FieldError[];
  validateUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): FieldError[];
  /** Field selector values besides metadata.name/namespace (e.g. status.phase). */
  fieldLabels?(obj: KubeObject): Record<string, string>;
}

export interface ScaleSubresource {
  specReplicasPath: string[];
  statusReplicasPath: string[];
  /** Path to a label selector string (CRDs) or to the kind's structured selector. */
  labelSelectorPath?: string[];
  /** Built-ins use spec.selector (a LabelSelector); CRDs give a string path. */
  structuredSelector?: boolean;
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
  /** Extra subresources only announced in discovery (exec, log, …), served by plug-in handlers. */
  extraSubresources?: { name: string; kind: string; group?: string; version?: string; verbs: string[] }[];
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
  review?: (obj: KubeObject, user: string) => KubeObject;
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
