/**
 * The generic REST store (kube-apiserver's registry/generic/registry.Store): one implementation
 * of get/list/create/update/patch/delete/watch for every kind, parameterised by the kind's
 * ResourceDef and strategy. Knows nothing about HTTP.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, type FieldError } from '../errors.js';
import type { GroupVersionKind, KubeObject } from '../types.js';
import type { ObjectStore, StoreEvent } from '../storage/store.js';
import { bucketOf } from '../storage/store.js';
import type { AdmissionChain, AdmissionOperation, AdmissionRequest } from './admission.js';
import { requirePatch, type OwnershipKind, type LazyModules as Plugins } from './lazy-modules.js';
import { getPath, setPath, type ResourceDef, type StrategyContext } from './resource.js';
import { genericObject, type StructSchema } from './patch/merge-schema.js';
import type { ResourceRegistry } from './registry.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { selectorMatches } from './strategies/workloads.js';
import { jsonDepthMessage, tooDeep } from '../apiserver/body-limits.js';
import { PRIVILEGED_GROUP, ALL_AUTHENTICATED, type UserInfo } from './kinds/authentication/user.js';
import type { ClusterAuth } from './kinds/authentication/cluster-auth.js';

/** Who an in-process caller is: kube-apiserver's loopback identity. */
const LOOPBACK: UserInfo = { username: 'system:apiserver', groups: [PRIVILEGED_GROUP, ALL_AUTHENTICATED] };

type Obj = Record<string, any>;

export interface RequestOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  user?: string;
  /** The authenticated caller of an HTTP request; absent for in-process callers (trusted, as kube's loopback client). */
  userInfo?: UserInfo;
  /** Warnings for the response's Warning headers, appended by the registry. */
  warnings?: string[];
}

export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continue?: string | null;
  resourceVersion?: string | null;
  resourceVersionMatch?: string | null;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  orphanDependents?: boolean;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

type DecodeAs = { verb: 'create' | 'update' } | { verb: 'patch'; patch: { type: Exclude<PatchType, 'apply'>; body: unknown } };

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

export type WatchSink = (type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR', object: KubeObject | object) => void;

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';

export const gvkOf = (d: ResourceDef): GroupVersionKind => ({ group: d.group, version: d.version, kind: d.kind });
export const apiVersionOf = (d: { group: string; version: string }) => (d.group ? `${d.group}/${d.version}` : d.version);
const qr = (d: ResourceDef) => ({ group: d.group, resource: d.resource });
const nowISO = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const randomSuffix = () => Array.from({ length: 5 }, () => GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)]).join('');

/** JSON equality without serialising: objects compare by key set, not key order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (Array.isArray(b)) return false;
  return sameKeys(a as Obj, b as Obj, () => false);
}

/** Key-by-key equality of two objects; `skip(key)` leaves a key out, undefined values count as absent. */
function sameKeys(a: Obj, b: Obj, skip: (k: string) => boolean, eq: (x: unknown, y: unknown, k: string) => boolean = jsonEqual): boolean {
  let n = 0;
  for (const k in a) {
    if (skip(k) || a[k] === undefined) continue;
    n++;
    if (!(k in b) || !eq(a[k], b[k], k)) return false;
  }
  for (const k in b) if (!skip(k) && b[k] !== undefined) n--;
  return n === 0;
}

const NOT_SPEC = new Set(['metadata', 'status', 'apiVersion', 'kind']);
/** Whether everything but metadata and status is the same: what a generation bump tracks. */
const sameSpec = (a: Obj, b: Obj) => sameKeys(a, b, (k) => NOT_SPEC.has(k));

/**
 * Equal but for what changes on every write: resourceVersion and managedFields timestamps.
 * As kube's IgnoreManagedFieldsTimestampsTransformer, a write that changes nothing else is a no-op.
 */
function sameButVolatile(a: Obj, b: Obj): boolean {
  return sameKeys(a, b, () => false, (x, y, k) => {
    if (k !== 'metadata' || !x || !y || typeof x !== 'object' || typeof y !== 'object') return jsonEqual(x, y);
    return sameKeys(x as Obj, y as Obj, (mk) => mk === 'resourceVersion', (mx, my, mk) => {
      if (mk !== 'managedFields' || !Array.isArray(mx) || !Array.isArray(my)) return jsonEqual(mx, my);
      return mx.length === my.length && mx.every((e, i) => (e && my[i] && typeof e === 'object' && typeof my[i] === 'object' ? sameKeys(e, my[i], (ek) => ek === 'time') : jsonEqual(e, my[i])));
    });
  });
}

export class RestStorage {
  /**
   * Whether a simulated kubelet runs to finish graceful deletions (strategies' gracePeriod):
   * until then, pods are deleted at once.
   */
  kubeletRunning = false;
  /** The cluster's authenticator and authorizer, for the review kinds (set by the cluster). */
  auth?: ClusterAuth;
  /** Ownership schemas per stored CRD object (a new revision is a new object) and version. */
  private readonly crdSchemas = new WeakMap<object, Map<string, StructSchema | undefined>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
    private readonly admission: AdmissionChain,
    private readonly plugins: Plugins,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  // ---- reads -------------------------------------------------------------------------------

  /** An object as served for `def`'s version. */
  present(def: ResourceDef, stored: KubeObject): KubeObject {
    const o = def.convert ? def.convert.fromStorage(stored) : stored;
    o.apiVersion = apiVersionOf(def);
    o.kind = def.kind;
    return o;
  }

  /**
   * A stored object as served for `def`'s version without copying it when the version is the
   * stored one: for callers that only read it (serialising a response, comparing on update).
   */
  private view(def: ResourceDef, shared: Readonly<KubeObject>): KubeObject {
    if (def.convert) return this.present(def, structuredClone(shared) as KubeObject);
    const apiVersion = apiVersionOf(def);
    if (shared.apiVersion === apiVersion && shared.kind === def.kind) return shared as KubeObject;
    return { ...(shared as KubeObject), apiVersion, kind: def.kind };
  }

  /** The storage shape of an object served as `def`'s version. */
  private toStorage(def: ResourceDef, o: KubeObject): KubeObject {
    return def.convert ? def.convert.toStorage(structuredClone(o)) : o;
  }

  get(def: ResourceDef, namespace: string, name: string): KubeObject {
    const o = this.store.get(def.bucket, def.namespaced ? namespace : '', name);
    if (!o) throw ApiError.notFound(qr(def), name);
    return this.present(def, o);
  }

  /** As get, but shared with the store: the caller serialises it at once and never changes it. */
  read(def: ResourceDef, namespace: string, name: string): Readonly<KubeObject> {
    const o = this.store.peek(def.bucket, def.namespaced ? namespace : '', name);
    if (!o) throw ApiError.notFound(qr(def), name);
    return this.view(def, o);
  }

  private matchers(def: ResourceDef, opts: ListOptions): (o: KubeObject) => boolean {
    const labels = parseLabelSelector(opts.labelSelector);
    const fieldLabels = def.strategy.fieldLabels;
    const supported = new Set(['metadata.name', 'metadata.namespace']);
    if (fieldLabels) for (const k of Object.keys(fieldLabels({ apiVersion: '', kind: '', metadata: {} }))) supported.add(k);
    const fields = parseFieldSelector(
      opts.fieldSelector,
      (o) => ({ 'metadata.name': o.metadata.name ?? '', 'metadata.namespace': o.metadata.namespace ?? '', ...(fieldLabels?.(o) ?? {}) }),
      supported,
      !!def.crd,
    );
    return (o) => (!labels || labels(o.metadata.labels ?? {})) && (!fields || fields(o));
  }

  /**
   * Which state a list reads, after kube's resourceVersion rules: unset is the latest, "0" any
   * (the latest here), Exact (or a legacy version with a limit) exactly that version, rebuilt from
   * the history or 410 Expired, NotOlderThan (or a legacy version) the latest if it is recent
   * enough. A version from the future is a 504, as the watch cache answers once it gives up.
   */
  private listState(def: ResourceDef, namespace: string | undefined, opts: ListOptions): { items: KubeObject[]; rv: number } {
    const ns = def.namespaced ? namespace : undefined;
    const current = this.store.currentRV;
    const param = opts.resourceVersion ?? '';
    if (param === '' || param === '0') return { items: this.store.list(def.bucket, ns, true), rv: current };
    const rv = parseResourceVersion(param);
    if (rv > current) throw tooLargeResourceVersion(rv, current);
    const exact = opts.resourceVersionMatch === 'Exact' || (!opts.resourceVersionMatch && !!opts.limit && opts.limit > 0 && !opts.continue);
    if (!exact) return { items: this.store.list(def.bucket, ns, true), rv: current };
    const items = this.store.listAt(def.bucket, rv, ns);
    if (!items) throw ApiError.gone('The resourceVersion for the provided list is too old.');
    return { items, rv };
  }

  list(def: ResourceDef, namespace: string | undefined, opts: ListOptions = {}): KubeObject {
    validateListOptions(opts, false);
    const match = this.matchers(def, opts);
    // Shared (uncopied) objects: the list is serialised straight away and items are rebuilt shallowly.
    // A continued list goes on from the current state (the embedded cluster keeps no snapshots).
    const state = opts.continue ? { items: this.store.list(def.bucket, def.namespaced ? namespace : undefined, true), rv: this.store.currentRV } : this.listState(def, namespace, opts);
    let items = state.items.filter(match);
    const rv = String(state.rv);
    let cont: string | undefined;
    let remaining: number | undefined;
    if (opts.continue) {
      const start = decodeContinue(opts.continue);
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > start);
    }
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      remaining = items.length - opts.limit;
      items = items.slice(0, opts.limit);
      const last = items[items.length - 1];
      cont = encodeContinue(rv, `${last.metadata.namespace ?? ''}/${last.metadata.name}`);
    }
    return {
      apiVersion: apiVersionOf(def),
      kind: def.listKind,
      metadata: { resourceVersion: rv, ...(cont ? { continue: cont, remainingItemCount: remaining } : {}) },
      items: items.map((o) => {
        // Typed lists carry no kind/apiVersion on items; custom resources (unstructured) do.
        if (def.crd) return { ...o, apiVersion: apiVersionOf(def), kind: def.kind };
        if (def.convert) return this.present(def, structuredClone(o));
        const { apiVersion: _a, kind: _k, ...rest } = o;
        return rest;
      }),
    };
  }

  // ---- writes ------------------------------------------------------------------------------

  private checkNamespace(def: ResourceDef, namespace: string, name: string): void {
    if (!def.namespaced) return;
    const ns = this.store.get(bucketOf('', 'namespaces'), '', namespace) as Obj | undefined;
    if (!ns) throw ApiError.notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.status?.phase === 'Terminating' || ns.metadata.deletionTimestamp) {
      throw ApiError.forbidden(qr(def), name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private checkBodyType(def: ResourceDef, body: Obj, namespace: string, name?: string): void {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw ApiError.badRequest('the body of the request was not a JSON object');
    const expected = apiVersionOf(def);
    if (body.apiVersion !== undefined && body.apiVersion !== expected) {
      throw ApiError.badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${expected})`);
    }
    if (body.kind !== undefined && body.kind !== def.kind) {
      throw ApiError.badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${def.kind})`);
    }
    body.apiVersion = expected;
    body.kind = def.kind;
    if (body.metadata === undefined || body.metadata === null) body.metadata = {};
    if (typeof body.metadata !== 'object' || Array.isArray(body.metadata)) throw this.undecodable(def, `cannot unmarshal ${jsonType(body.metadata)} into Go struct field ${def.kind}.metadata of type v1.ObjectMeta`);
    this.checkMetaTypes(def, body.metadata);
    if (def.namespaced) {
      if (body.metadata.namespace && body.metadata.namespace !== namespace) {
        throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      body.metadata.namespace = namespace;
    } else {
      delete body.metadata.namespace;
    }
    if (name !== undefined && body.metadata.name !== undefined && body.metadata.name !== name) {
      throw ApiError.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (name !== undefined) body.metadata.name ??= name;
  }

  private undecodable(def: ResourceDef, why: string): ApiError {
    return ApiError.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: json: ${why}`);
  }

  /** What Go's JSON decoding of ObjectMeta refuses before any validation runs. */
  private checkMetaTypes(def: ResourceDef, m: Obj): void {
    for (const f of ['name', 'generateName', 'namespace', 'resourceVersion', 'uid']) {
      if (m[f] !== undefined && m[f] !== null && typeof m[f] !== 'string') {
        throw this.undecodable(def, `cannot unmarshal ${jsonType(m[f])} into Go struct field ObjectMeta.metadata.${f} of type string`);
      }
    }
    for (const f of ['labels', 'annotations']) {
      const v = m[f];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) throw this.undecodable(def, `cannot unmarshal ${jsonType(v)} into Go struct field ObjectMeta.metadata.${f} of type map[string]string`);
      for (const x of Object.values(v)) {
        if (typeof x !== 'string') throw this.undecodable(def, `cannot unmarshal ${jsonType(x)} into Go struct field ObjectMeta.metadata.${f} of type string`);
      }
    }
    for (const f of ['finalizers', 'ownerReferences', 'managedFields']) {
      if (m[f] !== undefined && m[f] !== null && !Array.isArray(m[f])) throw this.undecodable(def, `cannot unmarshal ${jsonType(m[f])} into Go struct field ObjectMeta.metadata.${f} of type []`);
    }
    if (Array.isArray(m.finalizers) && m.finalizers.some((x: unknown) => typeof x !== 'string')) throw this.undecodable(def, 'cannot unmarshal non-string into Go struct field ObjectMeta.metadata.finalizers of type string');
    if (Array.isArray(m.ownerReferences) && m.ownerReferences.some((r: unknown) => !r || typeof r !== 'object')) throw this.undecodable(def, 'cannot unmarshal non-object into Go struct field ObjectMeta.metadata.ownerReferences of type v1.OwnerReference');
  }

  private invalid(def: ResourceDef, name: string, errs: FieldError[]): void {
    if (errs.length) throw ApiError.invalid({ group: def.group, kind: def.kind }, name, errs);
  }

  /**
   * Runs the admission chain; `validateObject` (the strategy's validation) runs after the
   * mutating plugins and before the validating ones, told whether a webhook changed the object.
   */
  private async admit(
    op: AdmissionOperation,
    def: ResourceDef,
    obj: KubeObject | undefined,
    old: KubeObject | undefined,
    opts: RequestOptions,
    subresource?: string,
    validateObject?: (mutated: boolean) => void,
    deleteOptions?: DeleteOptions,
  ): Promise<void> {
    if (this.admission.size === 0) return validateObject?.(false);
    const req: AdmissionRequest = {
      operation: op,
      resource: { group: def.group, version: def.version, resource: def.resource },
      subresource,
      kind: gvkOf(def),
      namespace: def.namespaced ? (obj ?? old)?.metadata.namespace : undefined,
      name: (obj ?? old)?.metadata.name ?? '',
      object: obj,
      oldObject: old,
      dryRun: !!opts.dryRun,
      userInfo: opts.userInfo ?? { username: opts.user ?? 'admin' },
      options: admissionOptions(op, opts, deleteOptions),
      ...(opts.warnings ? { warnings: opts.warnings } : {}),
    };
    await this.admission.run(req, validateObject && (() => validateObject(!!req.mutated)));
  }

  /**
   * What kube-apiserver's decoding of a body does with its fields: a value of the wrong type
   * always fails (whatever fieldValidation says); an unknown field fails under Strict, is a
   * warning under Warn, and under Warn and Ignore is dropped, never stored. Returns what to keep.
   */
  private decode<T extends KubeObject>(def: ResourceDef, obj: T, opts: RequestOptions, how: DecodeAs = { verb: 'create' }): T {
    const v = this.plugins.validation;
    if (!v) return obj;
    const mode = opts.fieldValidation ?? 'Warn';
    const crds = def.crd ? this.registry.crds() : [];
    const { warnings } = v.checkFields({ gvk: gvkOf(def), object: obj, mode, crds, ...how });
    if (mode === 'Strict') return obj;
    if (warnings.length) opts.warnings?.push(...warnings);
    if (mode === 'Warn' && !warnings.length) return obj;
    return v.dropUnknownFields({ gvk: gvkOf(def), object: obj, crds }) as T;
  }

  /** The kind's strategy validation plus, for a custom resource, its CRD version's schema. */
  private validation(def: ResourceDef, obj: KubeObject, ctx: StrategyContext, old?: KubeObject): FieldError[] {
    const errs = [...(def.strategy.validate?.(obj, ctx) ?? []), ...(old ? (def.strategy.validateUpdate?.(obj, old, ctx) ?? []) : [])];
    const v = this.plugins.validation;
    const crd = def.crd && v ? this.registry.crd(def.crd) : undefined;
    if (crd) errs.push(...v!.validateCustomResource({ crd, version: def.version, object: obj }));
    return errs;
  }

  /** A custom resource's field-ownership schema, built once per stored CRD revision. */
  private ownershipSchema(def: ResourceDef): StructSchema | undefined {
    const p = this.plugins.patch;
    const crd = def.crd && p ? (this.registry.crd(def.crd) as Obj | undefined) : undefined;
    if (!crd) return undefined;
    let perVersion = this.crdSchemas.get(crd);
    if (!perVersion) this.crdSchemas.set(crd, (perVersion = new Map()));
    if (!perVersion.has(def.version)) {
      const version = (crd.spec?.versions ?? []).find((v: Obj) => v?.name === def.version);
      perVersion.set(def.version, p!.schemaFromOpenAPI(version?.schema?.openAPIV3Schema));
    }
    return perVersion.get(def.version);
  }

  /** What field ownership needs from the kind's definition (or its CRD). */
  private ownershipKind(def: ResourceDef): OwnershipKind {
    return { schema: this.ownershipSchema(def) ?? def.mergeSchema ?? genericObject, zeroPaths: def.zeroPaths ?? ['metadata'], statusSubresource: !!def.status };
  }

  private recordManagedFields(def: ResourceDef, live: KubeObject | undefined, updated: KubeObject, opts: RequestOptions, subresource?: string): KubeObject {
    const p = this.plugins.patch;
    if (!p || !opts.fieldManager) return updated;
    return p.recordUpdate({ live, updated, manager: opts.fieldManager, subresource, gvk: gvkOf(def), now: this.clock(), ...this.ownershipKind(def) });
  }

  async create(def: ResourceDef, namespace: string, body: Obj, opts: RequestOptions = {}, managed?: 'apply'): Promise<KubeObject> {
    this.checkBodyType(def, body, namespace);
    if (def.review) return this.present(def, def.review(body as KubeObject, { user: opts.userInfo ?? LOOPBACK, namespace, auth: this.auth }));
    // An applied configuration was decoded before it was merged.
    const obj = managed === 'apply' ? (body as KubeObject) : this.decode(def, body as KubeObject, opts);
    const m = obj.metadata;
    if (!m.name && m.generateName) m.name = `${m.generateName}${randomSuffix()}`;
    this.checkNamespace(def, namespace, m.name ?? '');
    const now = this.clock();
    for (const k of ['uid', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']) delete m[k];
    m.uid = randomUUID();
    m.creationTimestamp = nowISO(now);
    if (def.strategy.generation) m.generation = 1;
    else delete m.generation;
    const ctx = { now };
    def.strategy.prepareForCreate?.(obj, ctx);
    def.strategy.defaults?.(obj, ctx);
    this.invalid(def, m.name ?? '', this.validation(def, obj, ctx));
    await this.admit('CREATE', def, obj, undefined, opts, undefined, () => {
      def.strategy.defaults?.(obj, ctx);
      this.invalid(def, m.name ?? '', this.validation(def, obj, ctx));
    });
    if (this.store.has(def.bucket, m.namespace ?? '', m.name!)) throw ApiError.alreadyExists(qr(def), m.name!);
    const final = managed === 'apply' ? obj : this.recordManagedFields(def, undefined, obj, opts);
    if (opts.dryRun) return this.present(def, structuredClone(final));
    return this.present(def, this.store.create(def.bucket, this.toStorage(def, final)));
  }

  /**
   * PUT semantics. `subresource` 'status' replaces only status; the main resource keeps the
   * stored status when the kind has a status subresource.
   */
  async update(def: ResourceDef, namespace: string, name: string, body: Obj, opts: RequestOptions = {}, subresource?: string, managed?: 'apply'): Promise<KubeObject> {
    return (await this.put(def, namespace, name, body, opts, subresource, managed)).object;
  }

  /**
   * PUT, which for kinds that allow it (AllowCreateOnUpdate) creates a missing object; `created`
   * tells the caller to answer 201.
   */
  async put(def: ResourceDef, namespace: string, name: string, body: Obj, opts: RequestOptions = {}, subresource?: string, managed?: 'apply'): Promise<{ object: KubeObject; created: boolean }> {
    this.checkBodyType(def, body, namespace, name);
    const ns = def.namespaced ? namespace : '';
    const old = this.store.peek(def.bucket, ns, name);
    if (!old) {
      if (!def.allowCreateOnUpdate || subresource !== undefined) throw ApiError.notFound(qr(def), name);
      return { object: await this.create(def, namespace, body, opts), created: true };
    }
    const requested = body.metadata.resourceVersion as string | undefined;
    if (requested !== undefined && requested !== '' && requested !== old.metadata.resourceVersion) throw ApiError.conflict(qr(def), name);
    const incoming = managed === 'apply' ? (body as KubeObject) : this.decode(def, body as KubeObject, opts, { verb: 'update' });
    return { object: await this.writeUpdate(def, old, incoming, opts, subresource, managed), created: false };
  }

  /** `oldIn` may be the stored object itself: it is only read, never changed or returned. */
  private async writeUpdate(def: ResourceDef, oldIn: Readonly<KubeObject>, incoming: KubeObject, opts: RequestOptions, subresource?: string, managed?: 'apply'): Promise<KubeObject> {
    const old = this.view(def, oldIn);
    const name = old.metadata.name!;
    let obj: Obj;
    if (subresource === 'status') {
      obj = structuredClone(old);
      obj.status = (incoming as Obj).status;
      if (managed === 'apply') obj.metadata.managedFields = incoming.metadata.managedFields;
    } else if (subresource === 'ephemeralcontainers') {
      // podEphemeralContainersStrategy: every change but spec.ephemeralContainers is dropped.
      obj = structuredClone(old);
      const ephemeral = (incoming as Obj).spec?.ephemeralContainers;
      if (ephemeral === undefined || ephemeral === null) delete obj.spec.ephemeralContainers;
      else obj.spec.ephemeralContainers = ephemeral;
      if (managed === 'apply') obj.metadata.managedFields = incoming.metadata.managedFields;
    } else {
      obj = incoming;
      if (def.status) {
        // The stored status (or none: an undefined value is not a field).
        if ((old as Obj).status === undefined) delete obj.status;
        else obj.status = structuredClone((old as Obj).status);
      }
    }
    const m = obj.metadata as Obj;
    const om = old.metadata;
    m.name = om.name;
    if (def.namespaced) m.namespace = om.namespace;
    m.uid = om.uid;
    m.creationTimestamp = om.creationTimestamp;
    m.resourceVersion = om.resourceVersion;
    if (om.deletionTimestamp) {
      m.deletionTimestamp = om.deletionTimestamp;
      m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
    } else {
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
    }
    if (m.generateName === undefined && om.generateName !== undefined) m.generateName = om.generateName;
    const now = this.clock();
    const ctx = { now, old, subresource };
    if (subresource !== 'status' && subresource !== 'ephemeralcontainers') def.strategy.prepareForUpdate?.(obj as KubeObject, old, ctx);
    def.strategy.defaults?.(obj as KubeObject, ctx);
    this.invalid(def, name, this.validation(def, obj as KubeObject, ctx, old));
    await this.admit('UPDATE', def, obj as KubeObject, old, opts, subresource, (mutated) => {
      if (mutated) this.invalid(def, name, this.validation(def, obj as KubeObject, ctx, old));
    });
    if (def.strategy.generation) {
      m.generation = om.generation ?? 1;
      if (!sameSpec(obj, old)) m.generation = (om.generation ?? 0) + 1;
    } else delete m.generation;
    let final = obj as KubeObject;
    if (managed !== 'apply') {
      if (!m.managedFields) m.managedFields = om.managedFields;
      // Nothing changed and ownership is already tracked: recording the update would change nothing either.
      const tracked = (om.managedFields ?? []).length > 0;
      if (!(tracked && sameButVolatile(obj, old))) final = this.recordManagedFields(def, old, final, opts, subresource);
    }
    if (sameButVolatile(final, old)) {
      return structuredClone(old); // a no-op update writes nothing, as etcd3's GuaranteedUpdate skips it
    }
    if (opts.dryRun) return this.present(def, structuredClone(final));
    if (this.finalizedAway(def, final)) {
      const gone = this.store.delete(def.bucket, om.namespace ?? '', name);
      return this.present(def, gone ?? final);
    }
    const stored = this.store.update(def.bucket, this.toStorage(def, final), om.resourceVersion);
    if (stored === 'conflict') throw ApiError.conflict(qr(def), name);
    if (stored === 'missing') throw ApiError.notFound(qr(def), name);
    return this.present(def, stored);
  }

  /** An object being deleted whose last finalizer just went: it leaves the store. */
  private finalizedAway(def: ResourceDef, o: Obj): boolean {
    if (!o.metadata.deletionTimestamp) return false;
    if ((o.metadata.finalizers ?? []).length) return false;
    return !def.strategy.finalization?.pending(o as KubeObject);
  }

  async patch(def: ResourceDef, namespace: string, name: string, type: PatchType, patch: unknown, opts: RequestOptions & { force?: boolean } = {}, subresource?: string): Promise<{ object: KubeObject; created: boolean }> {
    const ns = def.namespaced ? namespace : '';
    // Shared with the store: every patcher copies what it changes.
    const live = this.store.peek(def.bucket, ns, name);
    const gvk = gvkOf(def);
    const p = requirePatch(this.plugins, type === 'apply' ? 'server-side apply' : `${type} patch`);
    if (type === 'apply') {
      if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw ApiError.badRequest('error decoding YAML: the body of an apply patch must be an object');
      const applied = patch as Obj;
      if (applied.metadata?.name !== undefined && applied.metadata.name !== name) {
        throw ApiError.badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
      }
      if (!opts.fieldManager) throw ApiError.badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
      const manager = opts.fieldManager;
      this.checkBodyType(def, applied, namespace, name);
      const decoded = this.decode(def, applied as KubeObject, opts);
      const kind = this.ownershipKind(def);
      if (!live) {
        if (subresource !== undefined) throw ApiError.notFound(qr(def), name);
        const merged = p.serverSideApply({ live: undefined, applied: decoded, manager, force: !!opts.force, gvk, now: this.clock(), ...kind });
        return { object: await this.create(def, namespace, merged as Obj, opts, 'apply'), created: true };
      }
      const current = this.view(def, live);
      const merged = p.serverSideApply({ live: current, applied: decoded, manager, force: !!opts.force, gvk, now: this.clock(), subresource, ...kind });
      const rv = applied.metadata?.resourceVersion;
      if (rv && rv !== live.metadata.resourceVersion) throw ApiError.conflict(qr(def), name);
      return { object: await this.writeUpdate(def, live, merged, opts, subresource, 'apply'), created: false };
    }
    if (!live) throw ApiError.notFound(qr(def), name);
    const current = this.view(def, live);
    let patched: KubeObject;
    if (type === 'json') patched = p.applyJsonPatch(current, patch);
    else if (type === 'merge') patched = p.applyMergePatch(current, patch);
    else {
      // apiextensions-apiserver has no strategic merge for custom resources.
      if (def.crd) {
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
      }
      patched = p.applyStrategicMergePatch(current, patch, gvk, def.mergeSchema ?? genericObject);
    }
    if (!patched || typeof patched !== 'object' || !patched.metadata) throw ApiError.badRequest('the patch produced an object without metadata');
    // A patch may deepen an object past what decoding allows (a JSON patch's path is not nesting):
    // kube-apiserver fails decoding the patched JSON and answers 422 on the field `patch`.
    const deep = tooDeep(patched);
    if (deep) {
      throw ApiError.invalid({ group: '', kind: '' }, '', [{ type: 'FieldValueInvalid', field: 'patch', value: '', detail: `couldn't get version/kind; json parse error: ${jsonDepthMessage(deep)}` }]);
    }
    const rv = patched.metadata.resourceVersion;
    if (rv && rv !== live.metadata.resourceVersion) throw ApiError.conflict(qr(def), name);
    if (patched.apiVersion !== current.apiVersion || patched.kind !== current.kind) this.checkBodyType(def, patched as Obj, namespace, name);
    if (patched.metadata.name !== name) throw ApiError.badRequest(`the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`);
    patched = this.decode(def, patched, opts, { verb: 'patch', patch: { type, body: patch } });
    return { object: await this.writeUpdate(def, live, patched, opts, subresource), created: false };
  }

  // ---- scale subresource -------------------------------------------------------------------

  scale(def: ResourceDef, o: KubeObject): KubeObject {
    const sc = def.scale!;
    const sel = sc.structuredSelector ? selectorString(getPath(o, ['spec', 'selector']) as Obj) : sc.labelSelectorPath ? (getPath(o, sc.labelSelectorPath) as string | undefined) : undefined;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
      spec: { replicas: (getPath(o, sc.specReplicasPath) as number | undefined) ?? 0 },
      status: { replicas: (getPath(o, sc.statusReplicasPath) as number | undefined) ?? 0, ...(sel ? { selector: sel } : {}) },
    };
  }

  async updateScale(def: ResourceDef, namespace: string, name: string, scaleOrPatch: { body?: Obj; patchType?: PatchType; patch?: unknown }, opts: RequestOptions = {}): Promise<KubeObject> {
    const live = this.get(def, namespace, name);
    let scale = scaleOrPatch.body;
    if (scaleOrPatch.patchType) {
      const p = requirePatch(this.plugins, 'patching scale');
      const cur = this.scale(def, live);
      const gvk = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
      scale =
        scaleOrPatch.patchType === 'json'
          ? p.applyJsonPatch(cur, scaleOrPatch.patch)
          : scaleOrPatch.patchType === 'merge'
            ? p.applyMergePatch(cur, scaleOrPatch.patch)
            : scaleOrPatch.patchType === 'strategic'
              ? p.applyStrategicMergePatch(cur, scaleOrPatch.patch, gvk, genericObject)
              : { ...cur, spec: { ...(cur.spec as Obj), ...((scaleOrPatch.patch as Obj)?.spec ?? {}) } };
    }
    if (!scale || typeof scale !== 'object') throw ApiError.badRequest('the body of the request was not a JSON object');
    const replicas = scale.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw ApiError.invalid({ group: 'autoscaling', kind: 'Scale' }, name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' }]);
    }
    const rv = scale.metadata?.resourceVersion;
    if (rv && rv !== live.metadata.resourceVersion) throw ApiError.conflict(qr(def), name);
    const updated = structuredClone(live) as Obj;
    setPath(updated, def.scale!.specReplicasPath, replicas);
    const out = await this.writeUpdate(def, live, updated as KubeObject, opts, 'scale');
    return this.scale(def, out);
  }

  // ---- delete ------------------------------------------------------------------------------

  async delete(def: ResourceDef, namespace: string, name: string, opts: DeleteOptions = {}, ropts: RequestOptions = {}): Promise<{ object: KubeObject; deleted: boolean }> {
    const ns = def.namespaced ? namespace : '';
    const live = this.store.get(def.bucket, ns, name);
    if (!live) throw ApiError.notFound(qr(def), name);
    const obj = this.present(def, live) as Obj;
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== obj.metadata.uid) {
      throw ApiError.conflict(qr(def), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
      throw ApiError.conflict(qr(def), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`);
    }
    await this.admit('DELETE', def, undefined, obj as KubeObject, ropts, undefined, undefined, opts);
    const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : undefined);
    const finalizers: string[] = [...(obj.metadata.finalizers ?? [])];
    const addFinalizer = (f: string) => {
      if (!finalizers.includes(f)) finalizers.push(f);
    };
    if (obj.metadata.deletionTimestamp) {
      // Already being deleted: a second delete only changes the propagation finalizers.
      if (policy === 'Orphan') addFinalizer(ORPHAN);
      if (policy === 'Foreground') addFinalizer(FOREGROUND);
      if (JSON.stringify(finalizers) !== JSON.stringify(obj.metadata.finalizers ?? []) && !ropts.dryRun) {
        const upd = structuredClone(obj);
        upd.metadata.finalizers = finalizers;
        return { object: this.present(def, this.store.update(def.bucket, this.toStorage(def, upd as KubeObject)) as KubeObject), deleted: false };
      }
      return { object: obj as KubeObject, deleted: false };
    }
    if (policy === 'Orphan') addFinalizer(ORPHAN);
    if (policy === 'Foreground') addFinalizer(FOREGROUND);
    const grace = Math.max(0, def.strategy.gracePeriod?.(obj as KubeObject, opts, this.kubeletRunning) ?? 0);
    const finalizing = def.strategy.finalization?.pending(obj as KubeObject) ?? false;
    if (finalizers.length || grace > 0 || finalizing) {
      const upd = structuredClone(obj);
      const now = this.clock();
      upd.metadata.deletionTimestamp = nowISO(new Date(now.getTime() + grace * 1000));
      upd.metadata.deletionGracePeriodSeconds = grace;
      if (finalizers.length) upd.metadata.finalizers = finalizers;
      if (finalizing) def.strategy.finalization?.start?.(upd as KubeObject);
      if (ropts.dryRun) return { object: this.present(def, upd as KubeObject), deleted: false };
      const stored = this.store.update(def.bucket, this.toStorage(def, upd as KubeObject), obj.metadata.resourceVersion);
      if (typeof stored === 'string') throw ApiError.conflict(qr(def), name);
      return { object: this.present(def, stored), deleted: false };
    }
    if (ropts.dryRun) return { object: obj as KubeObject, deleted: true };
    const gone = this.store.delete(def.bucket, ns, name);
    return { object: this.present(def, gone ?? (obj as KubeObject)), deleted: true };
  }

  async deleteCollection(def: ResourceDef, namespace: string | undefined, list: ListOptions, opts: DeleteOptions, ropts: RequestOptions): Promise<KubeObject> {
    const match = this.matchers(def, list);
    const items = this.store.list(def.bucket, def.namespaced ? namespace : undefined).filter(match);
    const out: KubeObject[] = [];
    for (const o of items) {
      try {
        out.push((await this.delete(def, o.metadata.namespace ?? '', o.metadata.name!, opts, ropts)).object);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return { apiVersion: apiVersionOf(def), kind: def.listKind, metadata: { resourceVersion: String(this.store.currentRV) }, items: out };
  }

  // ---- watch -------------------------------------------------------------------------------

  /**
   * Streams events to `sink`. resourceVersion unset or "0" starts with ADDED events for the
   * current state (as kube-apiserver does for a watch without a version); an exact version
   * replays from history or reports 410 Gone as an ERROR event.
   */
  watch(def: ResourceDef, namespace: string | undefined, opts: WatchOptions, sink: WatchSink): () => void {
    validateListOptions(opts, true);
    const match = this.matchers(def, opts);
    const ns = def.namespaced ? namespace : undefined;
    const rvParam = opts.resourceVersion ?? '';
    // Legacy watches from "" or "0" start with the current state; sendInitialEvents (WatchList)
    // says so explicitly, with a resourceVersion the state must not be older than.
    const initial = opts.sendInitialEvents ?? (rvParam === '' || rvParam === '0');
    let since: number;
    if (initial) {
      since = this.store.currentRV;
      if (opts.sendInitialEvents && rvParam !== '' && rvParam !== '0') {
        const wanted = parseResourceVersion(rvParam);
        if (wanted > since) throw tooLargeResourceVersion(wanted, since);
      }
      for (const o of this.store.list(def.bucket, ns)) if (match(o)) sink('ADDED', this.present(def, o));
      if (opts.sendInitialEvents && opts.allowWatchBookmarks) {
        sink('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(since), annotations: { 'k8s.io/initial-events-end': 'true' } } });
      }
    } else if (opts.sendInitialEvents === false && rvParam === '') {
      since = this.store.currentRV;
    } else {
      since = parseResourceVersion(rvParam);
    }
    // Events are shared with the store: the sink serialises them at once.
    const onEvent = (e: StoreEvent) => {
      const o = this.view(def, e.object);
      const now = match(o);
      if (e.type === 'MODIFIED' && e.prev) {
        const before = match(this.view(def, e.prev));
        if (before && !now) return sink('DELETED', o);
        if (!before && now) return sink('ADDED', o);
      }
      if (now) sink(e.type, o);
    };
    try {
      return this.store.watch({ bucket: def.bucket, namespace: ns }, since, onEvent);
    } catch (e) {
      if (e instanceof ApiError && e.code === 410) {
        sink('ERROR', e.toStatus());
        return () => {};
      }
      throw e;
    }
  }

  bookmark(def: ResourceDef): KubeObject {
    return { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(this.store.currentRV) } };
  }

  /** For the garbage collector and namespace controller: does a selector pick these labels. */
  static selects = selectorMatches;
}

/** metainternalversion validation.ValidateListOptions, as kube-apiserver answers it (422). */
function validateListOptions(o: WatchOptions, watch: boolean): void {
  const errs: FieldError[] = [];
  const match = o.resourceVersionMatch ?? '';
  const forbidden = (field: string, detail: string) => errs.push({ type: 'FieldValueForbidden', field, detail });
  if (watch) {
    if (o.sendInitialEvents !== undefined && match !== 'NotOlderThan') forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
    if (match) {
      if (o.sendInitialEvents === undefined) forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
      if (match !== 'NotOlderThan') errs.push({ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', value: match, supported: ['NotOlderThan'] });
      if (o.continue) forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
    }
  } else {
    if (match) {
      if (!o.resourceVersion) forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided');
      if (o.continue) forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
      if (match !== 'Exact' && match !== 'NotOlderThan') errs.push({ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', value: match, supported: ['Exact', 'NotOlderThan', ''] });
      if (match === 'Exact' && o.resourceVersion === '0') forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    }
    if (o.sendInitialEvents !== undefined) forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list');
  }
  if (errs.length) throw ApiError.invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', errs);
  if (!watch && o.continue && o.resourceVersion && o.resourceVersion !== '0') throw ApiError.badRequest('specifying resource version is not allowed when using continue');
}

function parseResourceVersion(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw ApiError.badRequest(`invalid resource version: ${JSON.stringify(v)}`);
  return n;
}

/** storage.NewTooLargeResourceVersionError as the handlers turn it into a Timeout. */
function tooLargeResourceVersion(wanted: number, current: number): ApiError {
  return new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${wanted}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v;
}

function selectorString(sel: Obj | undefined): string {
  if (!sel) return '';
  const parts: string[] = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

function encodeContinue(rv: string, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start })).toString('base64url');
}

function decodeContinue(token: string): string {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof t.start !== 'string') throw new Error('no start');
    return t.start;
  } catch {
    throw ApiError.badRequest('continue key is not valid: illegal base64 data at input byte 0');
  }
}

/** The options object an AdmissionReview carries (meta.k8s.io/v1 Create/Update/DeleteOptions, in Go's field order). */
function admissionOptions(op: AdmissionOperation, opts: RequestOptions, del?: DeleteOptions): Record<string, unknown> {
  const kind = op === 'CREATE' ? 'CreateOptions' : op === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions';
  const out: Record<string, unknown> = { kind, apiVersion: 'meta.k8s.io/v1' };
  if (op === 'DELETE') {
    if (del?.gracePeriodSeconds !== undefined) out.gracePeriodSeconds = del.gracePeriodSeconds;
    if (del?.preconditions) out.preconditions = del.preconditions;
    if (del?.orphanDependents !== undefined) out.orphanDependents = del.orphanDependents;
    if (del?.propagationPolicy) out.propagationPolicy = del.propagationPolicy;
    if (opts.dryRun) out.dryRun = ['All'];
    return out;
  }
  if (opts.dryRun) out.dryRun = ['All'];
  if (opts.fieldManager) out.fieldManager = opts.fieldManager;
  if (opts.fieldValidation) out.fieldValidation = opts.fieldValidation;
  return out;
}
