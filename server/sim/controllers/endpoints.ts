/**
 * The endpoints and endpointslice controllers: for every Service with a selector, the pods it
 * selects that have an IP become addresses (ready ones in `addresses`, others in
 * `notReadyAddresses`), and one EndpointSlice per Service (`<service>-<random>`, labelled
 * kubernetes.io/service-name, managed by endpointslice-controller.k8s.io) carries the same pods
 * with ready/serving/terminating conditions.
 */
import type { ClusterApi } from '../addons/api.js';
import type { KubeObject } from '../types.js';
import { selectorMatches } from '../registry/strategies/workloads.js';
import { Informer, InformerController, selectObjects, isPodReady, nowISO, nsKey, ownerRefTo, quietly, splitKey, type Obj, type Resources } from './kit.js';

const SERVICE_NAME = 'kubernetes.io/service-name';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
const CONTROLLER = 'endpointslice-controller.k8s.io';

/** A Service port's target on one pod: a number, or a named container port (absent: no endpoint). */
function targetPort(port: Obj, pod: Obj): number | undefined {
  const t = port.targetPort ?? port.port;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(String(t))) return Number(t);
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name === t && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) return p.containerPort;
  return undefined;
}

export class EndpointsController extends InformerController {
  protected readonly informer: Informer;

  constructor(
    private readonly cluster: ClusterApi,
    private readonly res: Resources,
    /** The control-plane node's address, behind the `kubernetes` Service. */
    private readonly apiserverIP: string,
  ) {
    super();
    this.informer = new Informer(
      cluster,
      [res.services.bucket, res.pods.bucket, res.endpoints.bucket, res.endpointSlices.bucket],
      (e) => {
        const ns = e.object.metadata.namespace ?? '';
        if (e.bucket === res.services.bucket) return nsKey(e.object);
        if (e.bucket === res.endpoints.bucket) return e.type === 'DELETED' ? nsKey(e.object) : undefined;
        if (e.bucket === res.endpointSlices.bucket) {
          const svc = e.object.metadata.labels?.[SERVICE_NAME];
          return e.type === 'DELETED' && svc ? `${ns}/${svc}` : undefined;
        }
        const labels = [e.object.metadata.labels ?? {}, e.prev?.metadata.labels ?? {}];
        const keys: string[] = [];
        cluster.store.scan((b, s) => {
          const sel = (s as Obj).spec?.selector;
          if (b === res.services.bucket && s.metadata.namespace === ns && sel && labels.some((l) => selectorMatches({ matchLabels: sel }, l))) keys.push(nsKey(s));
        });
        return keys;
      },
      (key) => this.sync(key),
    );
  }

  private async sync(key: string): Promise<void> {
    const [ns, name] = splitKey(key);
    const svc = this.cluster.store.get(this.res.services.bucket, ns, name) as Obj | undefined;
    if (!svc) {
      // Slices are owned by the Service (the garbage collector takes them); Endpoints are not.
      if (this.cluster.store.has(this.res.endpoints.bucket, ns, name)) await quietly(() => this.cluster.rest.delete(this.res.endpoints, ns, name));
      return;
    }
    if (ns === 'default' && name === 'kubernetes') return this.syncKubernetes(svc);
    if (!svc.spec?.selector || svc.spec.type === 'ExternalName') return;
    const pods = selectObjects(this.cluster, this.res.pods.bucket, ns, (p) => {
      const q = p as Obj;
      return selectorMatches({ matchLabels: svc.spec.selector }, q.metadata.labels ?? {}) && q.status?.podIP && q.status?.phase !== 'Succeeded' && q.status?.phase !== 'Failed';
    });
    await this.writeEndpoints(svc, pods);
    await this.writeSlice(svc, pods);
  }

  private async writeEndpoints(svc: Obj, pods: Obj[]): Promise<void> {
    const ns = svc.metadata.namespace;
    // One subset per distinct port set (pods with named ports may resolve differently).
    const subsets = new Map<string, { addresses: Obj[]; notReadyAddresses: Obj[]; ports: Obj[] }>();
    for (const p of pods.sort((a, b) => (a.status.podIP < b.status.podIP ? -1 : 1))) {
      if (p.metadata.deletionTimestamp && !svc.spec?.publishNotReadyAddresses) continue;
      const ports = (svc.spec.ports ?? []).map((sp: Obj) => ({ ...(sp.name ? { name: sp.name } : {}), port: targetPort(sp, p), protocol: sp.protocol ?? 'TCP' })).filter((x: Obj) => x.port !== undefined);
      if (!ports.length) continue;
      const k = JSON.stringify(ports);
      const sub = subsets.get(k) ?? { addresses: [], notReadyAddresses: [], ports };
      subsets.set(k, sub);
      const addr = { ip: p.status.podIP, nodeName: p.spec.nodeName, targetRef: { kind: 'Pod', name: p.metadata.name, namespace: ns, uid: p.metadata.uid } };
      (isPodReady(p) || svc.spec?.publishNotReadyAddresses ? sub.addresses : sub.notReadyAddresses).push(addr);
    }
    const list = [...subsets.values()].map((s) => ({ ...(s.addresses.length ? { addresses: s.addresses } : {}), ...(s.notReadyAddresses.length ? { notReadyAddresses: s.notReadyAddresses } : {}), ports: s.ports }));
    await this.upsertEndpoints(svc, list);
  }

  private async upsertEndpoints(svc: Obj, subsets: Obj[]): Promise<void> {
    const ns = svc.metadata.namespace;
    const name = svc.metadata.name;
    const live = this.cluster.store.get(this.res.endpoints.bucket, ns, name) as Obj | undefined;
    const labels = { ...(svc.metadata.labels ?? {}) };
    if (!live) {
      await quietly(() =>
        this.cluster.rest.create(this.res.endpoints, ns, {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name, namespace: ns, labels, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': nowISO() } },
          ...(subsets.length ? { subsets } : {}),
        }),
      );
      return;
    }
    if (JSON.stringify(live.subsets ?? []) === JSON.stringify(subsets) && JSON.stringify(live.metadata.labels ?? {}) === JSON.stringify(labels)) return;
    const upd = structuredClone(live);
    upd.metadata.labels = labels;
    upd.metadata.annotations = { ...(upd.metadata.annotations ?? {}), 'endpoints.kubernetes.io/last-change-trigger-time': nowISO() };
    if (subsets.length) upd.subsets = subsets;
    else delete upd.subsets;
    await this.cluster.rest.update(this.res.endpoints, ns, name, upd);
  }

  private async writeSlice(svc: Obj, pods: Obj[]): Promise<void> {
    const ns = svc.metadata.namespace;
    const endpoints = pods
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
      .map((p) => {
        const terminating = !!p.metadata.deletionTimestamp;
        const ready = isPodReady(p) && !terminating;
        return {
          addresses: [p.status.podIP],
          conditions: { ready, serving: isPodReady(p), terminating },
          nodeName: p.spec.nodeName,
          targetRef: { kind: 'Pod', name: p.metadata.name, namespace: ns, uid: p.metadata.uid },
        };
      });
    const first = pods[0];
    const ports = (svc.spec.ports ?? []).map((sp: Obj) => ({ name: sp.name ?? '', port: first ? (targetPort(sp, first) ?? null) : null, protocol: sp.protocol ?? 'TCP' }));
    const slices = (this.cluster.store.list(this.res.endpointSlices.bucket, ns) as Obj[]).filter((s) => s.metadata.labels?.[SERVICE_NAME] === svc.metadata.name && s.metadata.labels?.[MANAGED_BY] === CONTROLLER);
    const labels = { ...(svc.metadata.labels ?? {}), [SERVICE_NAME]: svc.metadata.name, [MANAGED_BY]: CONTROLLER };
    const body = { addressType: 'IPv4', endpoints, ports: first ? ports : null };
    if (!slices.length) {
      await this.cluster.rest.create(this.res.endpointSlices, ns, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { generateName: `${svc.metadata.name}-`, namespace: ns, labels, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': nowISO() }, ownerReferences: [ownerRefTo(this.cluster.rest.present(this.res.services, structuredClone(svc) as KubeObject))] },
        ...body,
      });
      return;
    }
    const [slice, ...extra] = slices;
    for (const s of extra) await quietly(() => this.cluster.rest.delete(this.res.endpointSlices, ns, s.metadata.name));
    if (JSON.stringify({ addressType: slice!.addressType, endpoints: slice!.endpoints ?? [], ports: slice!.ports ?? null }) === JSON.stringify(body) && JSON.stringify(slice!.metadata.labels) === JSON.stringify(labels)) return;
    const upd: Obj = { ...structuredClone(slice!), ...body };
    upd.metadata.labels = labels;
    await this.cluster.rest.update(this.res.endpointSlices, ns, slice!.metadata.name, upd);
  }

  /** The apiserver's own endpoints: the control-plane node's address, port 6443. */
  private async syncKubernetes(svc: Obj): Promise<void> {
    await this.upsertEndpoints({ ...svc, metadata: { ...svc.metadata, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } }, [{ addresses: [{ ip: this.apiserverIP }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
    const live = this.cluster.store.get(this.res.endpointSlices.bucket, 'default', 'kubernetes');
    if (live) return;
    await quietly(() =>
      this.cluster.rest.create(this.res.endpointSlices, 'default', {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { [SERVICE_NAME]: 'kubernetes' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [this.apiserverIP], conditions: { ready: true } }],
        ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
      }),
    );
  }
}
