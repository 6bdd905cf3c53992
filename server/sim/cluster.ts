/**
 * One embedded Kubernetes cluster, the composition root: a store, the registry and REST storage
 * over it, admission, the HTTP API server, and the ClusterApi the add-ons (addons/index.ts) get
 * when they start, in one phase and list order. Each instance is fully independent (no
 * module-level state), so several can run in one process.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { ObjectStore, type StoreSnapshot } from './storage/store.js';
import type { KubeObject } from './types.js';
import { CRD_BUCKET, ResourceRegistry } from './registry/registry.js';
import { BUILTIN_KINDS } from './registry/kinds/index.js';
import { AdmissionChain } from './registry/admission.js';
import { loadLazyModules, type LazyModules } from './registry/lazy-modules.js';
import { RestStorage } from './registry/rest.js';
import { ApiServer } from './apiserver/server.js';
import { ClusterAuth } from './registry/kinds/authentication/cluster-auth.js';
import { rbacEscalationCheck } from './registry/kinds/rbac/escalation.js';
import { createServingCert, type ServingCert } from './apiserver/tls.js';
import { PodInterceptors } from './network/interceptors.js';
import { ServiceCalls } from './network/service-calls.js';
import { ImageBehaviours } from './images/image-table.js';
import { EventRecorder } from './controllers/events.js';
import { Resources } from './controllers/kit.js';
import { realClock, type Clock } from './time/clock.js';
import type { AddOn, ClusterApi, Controller, Stop } from './addons/api.js';
import { clusterKinds } from './addons/kinds.js';
import { clusterAddOns, type Workloads, type WorkloadsOptions } from './addons/index.js';

export interface EmbeddedClusterOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Bearer token clients must present; random when omitted. */
  token?: string;
  /** CA and serving certificate (kept across restarts so kubeconfigs stay valid); fresh when omitted. */
  cert?: ServingCert;
  /** How often watches that allow bookmarks get one (default 30 s). */
  bookmarkIntervalMs?: number;
  /** Watch history length; older resourceVersions answer 410 Gone. */
  watchHistory?: number;
  /**
   * Nodes, scheduler, kubelets, controllers and the pod network (DNS, Services, NodePort
   * listeners, exec/logs/port-forward/proxy); options set the pod lifecycle's timings and more.
   * Off: an API server only, which is what most API tests need.
   */
  workloads?: boolean | WorkloadsOptions;
  /** Add-ons to start after the built-in ones (addons/index.ts), in this order. */
  addons?: AddOn[];
  /**
   * The cluster's time: object timestamps and the controllers that act on time of day (CronJobs).
   * Tests pass a ManualClock (time/clock.ts) to run schedules without waiting real minutes.
   */
  clock?: Clock;
}

export interface ClusterSnapshot {
  version: 1;
  store: StoreSnapshot;
}

/** settle() gives up (and says so) when the cluster keeps changing for this many passes. */
const SETTLE_MAX_PASSES = 200;

export class EmbeddedCluster {
  readonly store: ObjectStore;
  readonly registry: ResourceRegistry;
  readonly admission: AdmissionChain;
  readonly rest: RestStorage;
  readonly apiserver: ApiServer;
  readonly token: string;
  /** Authentication (tokens) and authorization (RBAC) of the cluster's API. */
  readonly auth: ClusterAuth;
  /** What controllers and add-ons receive: the cluster's narrow API. */
  readonly api: ClusterApi;
  readonly interceptors = new PodInterceptors();
  readonly images = new ImageBehaviours();
  private readonly serviceCalls = new ServiceCalls();
  private readonly controllers = new Set<Controller>();
  private readonly events: EventRecorder;
  private readonly stops: { name: string; stop: Stop }[] = [];
  /** Nodes, kubelets and the pod network, when started with `workloads`. */
  workloads?: Workloads;
  private _url = '';
  private stopped = false;

  private constructor(
    readonly lazyModules: LazyModules,
    private readonly opts: EmbeddedClusterOptions,
    private readonly cert: ServingCert,
  ) {
    this.token = opts.token ?? randomBytes(24).toString('hex');
    this.store = new ObjectStore(opts.watchHistory);
    this.registry = new ResourceRegistry(BUILTIN_KINDS, this.store);
    this.admission = new AdmissionChain();
    const clock = opts.clock ?? realClock;
    this.rest = new RestStorage(this.store, this.registry, this.admission, lazyModules, () => clock.now());
    // ServiceAccount tokens are signed with the serving key, which survives restarts with the certificate.
    this.auth = new ClusterAuth(this.store, this.token, cert.keyPem);
    this.rest.auth = this.auth;
    this.admission.register(rbacEscalationCheck(this.auth));
    this.apiserver = new ApiServer({ auth: this.auth, registry: this.registry, rest: this.rest, plugins: lazyModules, bookmarkIntervalMs: opts.bookmarkIntervalMs, tls: cert });
    this.api = this.clusterApi();
    this.events = new EventRecorder(this.api, new Resources(this.api));
    this.controllers.add({ name: 'events', idle: () => this.events.idle() });
  }

  private clusterApi(): ClusterApi {
    const controllers = this.controllers;
    return {
      store: this.store,
      rest: this.rest,
      kinds: clusterKinds(this.registry, this.rest),
      admission: { register: (plugin) => this.admission.register(plugin) },
      subresources: { register: (resource, sub, handler, group) => this.apiserver.registerSubresource(resource, sub, handler, group) },
      interceptors: this.interceptors,
      images: this.images,
      serviceCalls: this.serviceCalls,
      tokens: this.auth.tokens,
      events: {
        normal: (...a) => this.events.normal(...a),
        warning: (...a) => this.events.warning(...a),
      },
      controllers: {
        register(c) {
          controllers.add(c);
          return () => controllers.delete(c);
        },
      },
      clock: this.opts.clock ?? realClock,
      log: {
        info: (m) => console.log(`sim: ${m}`),
        warn: (m) => console.warn(`sim: ${m}`),
        error: (m) => console.error(`sim: ${m}`),
      },
    };
  }

  static async start(opts: EmbeddedClusterOptions = {}): Promise<EmbeddedCluster> {
    const host = opts.host ?? '127.0.0.1';
    const lazyModules = await loadLazyModules();
    const cert = opts.cert ?? createServingCert([host]);
    const c = new EmbeddedCluster(lazyModules, opts, cert);
    const addOns = await clusterAddOns({
      controlPlane: { store: c.store, registry: c.registry, rest: c.rest, caPem: cert.caPem },
      workloads: opts.workloads ? (opts.workloads === true ? {} : opts.workloads) : false,
      extra: opts.addons,
    });
    try {
      // The known images' behaviours (and the shell they bring) load only for a cluster that runs containers.
      if (opts.workloads) c.images.useBuiltins((await import('./images/known-images.js')).BUILTIN_IMAGES);
      // One phase, in list order: each add-on finds what the ones before it brought.
      for (const a of addOns.list) c.stops.push({ name: a.name, stop: await a.start(c.api) });
      c.workloads = addOns.workloads?.running;
      c._url = await c.apiserver.listen(host, opts.port ?? 0);
    } catch (e) {
      await c.stop();
      throw e;
    }
    lazyModules.openapi?.prewarmOpenApi?.(); // schedules itself after start-up, never delays it
    return c;
  }

  /** PEM of the CA clients should trust (also in the kubeconfig). */
  get caPem(): string {
    return this.cert.caPem;
  }

  get url(): string {
    return this._url;
  }

  /**
   * Resolves once the cluster is quiet: a whole pass over every controller's queue (and the
   * event recorder) found them idle without the store changing. Timers still pending (a pod's
   * next lifecycle stage) are not waited for. Throws if the cluster never stops changing.
   */
  async settle(): Promise<void> {
    for (let pass = 0; pass < SETTLE_MAX_PASSES; pass++) {
      const rv = this.store.currentRV;
      for (const c of [...this.controllers]) await c.idle();
      if (this.store.currentRV === rv) return;
    }
    throw new Error(`embedded cluster did not settle: the store was still changing after ${SETTLE_MAX_PASSES} passes over its controllers (${[...this.controllers].map((c) => c.name).join(', ')})`);
  }

  kubeconfig(): string {
    return YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'playground', cluster: { server: this._url, 'certificate-authority-data': Buffer.from(this.cert.caPem).toString('base64') } }],
      users: [{ name: 'playground-admin', user: { token: this.token } }],
      contexts: [{ name: 'playground', context: { cluster: 'playground', user: 'playground-admin', namespace: 'default' } }],
      'current-context': 'playground',
      preferences: {},
    });
  }

  async writeKubeconfig(path: string): Promise<void> {
    await writeFile(path, this.kubeconfig(), { mode: 0o600 });
  }

  /** The whole state, resourceVersions included. */
  snapshot(): ClusterSnapshot {
    return { version: 1, store: this.store.snapshot() };
  }

  /**
   * Replaces the state with a snapshot. resourceVersions keep increasing (clients' watches get
   * 410 Gone and relist), and CRD-defined resources follow the restored CRDs.
   */
  restore(s: ClusterSnapshot): void {
    if (s?.version !== 1 || !s.store) throw new Error('not a cluster snapshot');
    this.store.restore(s.store);
    this.auth.rbac.invalidate();
    this.registry.syncCRDs();
    // A restore sends no store events: controllers and kubelets must look again.
    for (const c of this.controllers) c.resync?.();
  }

  /**
   * Makes the live cluster hold a snapshot's objects (except the buckets in `keep`) as ordinary
   * changes that watches and controllers see (storage/store.ts replaceContents), then waits for
   * it to settle. Pods the snapshot has running are found running by the kubelet at once.
   * `s` is handed over (its objects are stored as they are): pass a freshly parsed state.
   */
  async replaceState(s: ClusterSnapshot, keep: (bucket: string, o: Readonly<KubeObject>) => boolean): Promise<{ added: number; modified: number; deleted: number; unchanged: number }> {
    if (s?.version !== 1 || !s.store) throw new Error('not a cluster snapshot');
    const counts = this.registry.batch(() => this.store.replaceContents(s.store, keep, [CRD_BUCKET]));
    await this.settle();
    return counts;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Add-ons stop in reverse start order: later ones may use what earlier ones brought.
    for (const { name, stop } of this.stops.reverse()) {
      try {
        await stop();
      } catch (e) {
        console.error(`sim: stopping add-on ${name} failed:`, (e as Error).message);
      }
    }
    this.events.stop();
    await this.apiserver.close();
    this.registry.close();
    this.auth.close();
    this.store.close();
  }
}
