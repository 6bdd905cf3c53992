/**
 * One embedded Kubernetes cluster: a store, the registry and REST storage over it, the HTTP API
 * server, admission, and the control-plane controllers this layer owns. Each instance is fully
 * independent (no module-level state), so several can run in one process.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { ObjectStore, type StoreSnapshot } from './storage/store.js';
import { ResourceRegistry } from './registry/registry.js';
import { builtinResources } from './registry/catalog.js';
import { createServiceAllocator } from './registry/allocators.js';
import { AdmissionChain } from './registry/admission.js';
import { loadPlugins, type Plugins } from './registry/plugins.js';
import { RestStorage } from './registry/rest.js';
import { ApiServer } from './apiserver/server.js';
import { NamespaceController } from './controllers/namespace.js';
import { GarbageCollector } from './controllers/garbagecollector.js';
import { CRDFinalizer } from './registry/crd-finalizer.js';
import type { WorkloadControllerOptions, WorkloadControllers } from './controllers/index.js';
import type { NetworkAttachment } from './workloads/index.js';
import { createServingCert, type ServingCert } from './apiserver/tls.js';

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
   * Also start nodes, scheduler, kubelets and workload controllers (controllers/index.ts), so
   * pods run. Off by default: the API machinery alone is what most tests need.
   */
  /**
   * Nodes, scheduler, kubelets, controllers and the pod network (DNS, Services, NodePort
   * listeners, exec/logs/port-forward/proxy). Off: an API server only.
   */
  workloads?: boolean | Omit<WorkloadControllerOptions, 'runtime'>;
}

export interface ClusterSnapshot {
  version: 1;
  store: StoreSnapshot;
}

export class EmbeddedCluster {
  readonly store: ObjectStore;
  readonly registry: ResourceRegistry;
  readonly admission: AdmissionChain;
  readonly rest: RestStorage;
  readonly apiserver: ApiServer;
  readonly token: string;
  private namespaces!: NamespaceController;
  private gc!: GarbageCollector;
  private crdFinalizer!: CRDFinalizer;
  /** Nodes, kubelets and workload controllers, when started with `workloads`. */
  workloads?: WorkloadControllers;
  /** The pod network and its per-pod interception point, when started with `workloads`. */
  network?: NetworkAttachment;
  private _url = '';
  private stopped = false;

  private constructor(
    readonly plugins: Plugins,
    private readonly opts: EmbeddedClusterOptions,
    private readonly cert: ServingCert,
  ) {
    this.token = opts.token ?? randomBytes(24).toString('hex');
    this.store = new ObjectStore(opts.watchHistory);
    this.registry = new ResourceRegistry(builtinResources(createServiceAllocator(this.store)), this.store);
    this.admission = new AdmissionChain();
    this.rest = new RestStorage(this.store, this.registry, this.admission, plugins);
    this.apiserver = new ApiServer({ token: this.token, registry: this.registry, rest: this.rest, plugins, bookmarkIntervalMs: opts.bookmarkIntervalMs, tls: cert });
  }

  static async start(opts: EmbeddedClusterOptions = {}): Promise<EmbeddedCluster> {
    const host = opts.host ?? '127.0.0.1';
    const plugins = await loadPlugins();
    const cert = opts.cert ?? createServingCert([host]);
    const c = new EmbeddedCluster(plugins, opts, cert);
    c.startControllers();
    await c.namespaces.bootstrap();
    c._url = await c.apiserver.listen(host, opts.port ?? 0);
    if (opts.workloads) {
      const { startWorkloadControllers } = await import('./controllers/index.js');
      const { attachNetwork } = await import('./workloads/index.js');
      c.network = attachNetwork(c);
      c.workloads = startWorkloadControllers(c, { ...(opts.workloads === true ? {} : opts.workloads), runtime: c.network.runtime });
      c.network.useKubelet(c.workloads.kubelet);
      // Nodes and kube-system exist by the time a client can ask for them.
      await c.workloads.ready;
    }
    plugins.openapi?.prewarmOpenApi?.(); // schedules itself after start-up, never delays it
    return c;
  }

  private startControllers(): void {
    this.namespaces = new NamespaceController(this.store, this.registry, this.rest);
    this.gc = new GarbageCollector(this.store, this.registry, this.rest);
    this.crdFinalizer = new CRDFinalizer(this.store, this.registry, this.rest);
  }

  /** PEM of the CA clients should trust (also in the kubeconfig). */
  get caPem(): string {
    return this.cert.caPem;
  }

  get url(): string {
    return this._url;
  }

  /** Resolves when the controllers owned here have processed everything queued so far. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      await this.gc.idle();
      await this.namespaces.idle();
      await this.crdFinalizer.idle();
      await this.workloads?.idle();
    }
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
    this.registry.syncCRDs();
    // A restore sends no store events: controllers and kubelets must look again.
    this.workloads?.resync();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.workloads?.stop();
    await this.network?.stop();
    this.namespaces.stop();
    this.gc.stop();
    this.crdFinalizer.stop();
    await this.apiserver.close();
    this.registry.close();
    this.store.close();
  }
}
