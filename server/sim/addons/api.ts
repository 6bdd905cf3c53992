/**
 * What a controller or an add-on may do to the embedded cluster: the narrow API they receive
 * instead of the cluster object. Types only, from the layers below (storage, registry, apiserver,
 * network, images), so nothing here can lead back up to the cluster.
 */
import type { ObjectStore } from '../storage/store.js';
import type { RestStorage } from '../registry/rest.js';
import type { ServiceAccountTokens } from '../registry/kinds/authentication/tokens.js';
import type { ResourceDef } from '../registry/resource.js';
import type { KindDefinition as BuiltinKindDefinition } from '../registry/kind.js';
import type { AdmissionPlugin } from '../registry/admission.js';
import type { SubresourceHandler } from '../apiserver/server.js';
import type { PodInterceptors } from '../network/interceptors.js';
import type { ContainerBehaviour, ImageBehaviourEntry } from '../images/types.js';
import type { PullFailure } from '../images/registry.js';
import type { ServiceCall } from '../network/service-calls.js';
import type { KubeObject } from '../types.js';
import type { Clock } from '../time/clock.js';

/** Reads, writes and change notifications of the object store (writes skip admission: controllers' own bookkeeping). */
export type ClusterStore = Pick<ObjectStore, 'get' | 'peek' | 'has' | 'list' | 'scan' | 'count' | 'create' | 'update' | 'delete' | 'onAnyChange' | 'currentRV'>;

/** Create/get/list/update/patch/delete as the API server does them: defaults, validation, admission, managed fields. */
export type ClusterRest = Pick<RestStorage, 'get' | 'read' | 'list' | 'create' | 'update' | 'put' | 'patch' | 'delete' | 'present' | 'scale' | 'updateScale' | 'kubeletRunning'>;

/**
 * A kind an add-on brings. CRD-backed: the CustomResourceDefinition object, created through the
 * API as `kubectl apply` would (discovery, OpenAPI, tables and SSA follow the CRD). Built-in
 * style (a ResourceDef with its strategy) waits for the registry's addKind (see kinds.ts).
 */
/** A CRD-backed kind (created through the API) or a kind written in code, served as built-in kinds are. */
export type KindDefinition = { crd: KubeObject } | { builtin: BuiltinKindDefinition };

export interface ClusterKinds {
  /** The resource as served now (CRD-backed ones change when their CRD does: look up per use). */
  lookup(group: string, version: string, resource: string): ResourceDef | undefined;
  /** As lookup, throwing when the cluster does not serve it. */
  require(group: string, version: string, resource: string): ResourceDef;
  /** Serves a new kind; resolves once it is in discovery. The returned function withdraws it. */
  register(def: KindDefinition): Promise<() => Promise<void>>;
}

export interface EventSource {
  component: string;
  host?: string;
}

/** core/v1 Events as client-go's recorder writes them (repeats fold into a count). */
export interface ClusterEvents {
  normal(obj: KubeObject, reason: string, message: string, source: EventSource, fieldPath?: string): void;
  warning(obj: KubeObject, reason: string, message: string, source: EventSource, fieldPath?: string): void;
}

/**
 * Anything with work queues: settle() waits until every registered one is idle and the store
 * stopped changing; resync() re-reads the state after a snapshot restore (which emits no events).
 */
export interface Controller {
  name: string;
  idle(): Promise<void>;
  resync?(): void;
}

export interface ClusterLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ClusterApi {
  readonly store: ClusterStore;
  readonly rest: ClusterRest;
  readonly kinds: ClusterKinds;
  /** Admission plugins (mutating, then validating), as kube-apiserver's chain; webhooks hang here too, as one plugin. */
  readonly admission: { register(plugin: AdmissionPlugin): () => void };
  /** Handlers for `<resource>/<subresource>` (pods/exec, services/proxy…); returns an unregister function. */
  readonly subresources: { register(resource: string, subresource: string, handler: SubresourceHandler, group?: string): () => void };
  /**
   * The per-pod interception point every request of a pod passes (what iptables redirection is
   * to a sidecar): `add(interceptor)` hangs one in, returning its removal.
   */
  readonly interceptors: PodInterceptors;
  /** Image → what its containers do; add-ons' images match before the built-in ones. */
  readonly images: { register(entry: ImageBehaviourEntry): () => void; forImage(image: string): ContainerBehaviour; entryFor(image: string): ImageBehaviourEntry | null; pull(image: string): PullFailure | undefined };
  readonly events: ClusterEvents;
  /**
   * kube-apiserver's own requests to a Service (admission webhooks): `call` picks a ready
   * endpoint and delivers to the pod; the pod network `provide`s it (the workloads add-on).
   * Without a pod network every call fails as a Service without endpoints does.
   */
  readonly serviceCalls: { call: ServiceCall; provide(impl: ServiceCall): () => void };
  /** kube-apiserver's TokenRequest, for the kubelet's projected ServiceAccount tokens (absent in bare test harnesses). */
  readonly tokens?: Pick<ServiceAccountTokens, 'issue'>;
  /** Work that settle() waits for; returns an unregister function. */
  readonly controllers: { register(controller: Controller): () => void };
  /** The cluster's time: now, and waits measured on it (a test's ManualClock moves both). */
  readonly clock: Clock;
  readonly log: ClusterLogger;
}

/** Undoes what start() did (timers, watches, registrations). */
export type Stop = () => void | Promise<void>;

/**
 * A part of the cluster that brings its own kinds, controllers, images, admission plugins or
 * interceptors through the API. Add-ons start in list order (addons/index.ts) and stop in reverse.
 */
export interface AddOn {
  name: string;
  start(api: ClusterApi): Stop | Promise<Stop>;
}
