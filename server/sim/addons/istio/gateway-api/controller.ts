/**
 * istiod's Kubernetes Gateway API controllers, running while an istiod serves and the Gateway API
 * CRDs are installed: the built-in GatewayClasses (`istio`, `istio-remote`) created and accepted;
 * the deployment controller applying `<name>-istio` for each Gateway of class istio; the status
 * istiod writes on Gateways and HTTPRoutes; and the Istio config the conversion yields
 * (translate.ts), which the config distribution serves next to the cluster's own.
 */
import type { ClusterApi, Controller } from '../../api.js';
import type { ResourceDef } from '../../../registry/resource.js';
import { renderGateway, type GatewayValues } from './deployment.js';
import { ISTIO_CONTROLLER, REMOTE_CONTROLLER, isIstioClass, translate, type Condition, type Translation } from './translate.js';
import { GATEWAY_API_GROUP } from './version.js';

type Obj = Record<string, any>;

const FIELD_MANAGER = 'istio.io/gateway-controller';
const ISTIOD_USER = 'system:serviceaccount:istio-system:istiod';
const CLASSES = [
  { name: 'istio', controllerName: ISTIO_CONTROLLER, description: 'The default Istio GatewayClass' },
  { name: 'istio-remote', controllerName: REMOTE_CONTROLLER, description: 'Remote to this cluster. Does not deploy or affect configuration.' },
];

export class GatewayApiController implements Controller {
  readonly name = 'istiod-gateway-api';
  private cached: Translation | undefined;
  private running: Promise<void> = Promise.resolve();
  private scheduled = false;
  private readonly unwatch: () => void;
  private readonly watched: Set<string>;

  constructor(
    private readonly api: ClusterApi,
    private readonly serving: () => boolean,
    /** The Istio config it yields changed: istiod pushes. */
    private readonly configChanged: () => void,
  ) {
    const b = (g: string, r: string) => api.kinds.lookup(g, 'v1', r)?.bucket ?? `${g}/${r}`;
    this.watched = new Set([b('', 'services'), b('', 'endpoints'), b('', 'namespaces'), b('apiextensions.k8s.io', 'customresourcedefinitions')]);
    this.unwatch = api.store.onAnyChange((e) => {
      if (!e.bucket.startsWith(`${GATEWAY_API_GROUP}/`) && !this.watched.has(e.bucket)) return;
      this.cached = undefined;
      if (e.bucket.startsWith(`${GATEWAY_API_GROUP}/`) || e.bucket === b('', 'services')) this.configChanged();
      this.schedule();
    });
  }

  private def(resource: string, version = 'v1'): ResourceDef | undefined {
    return this.api.kinds.lookup(GATEWAY_API_GROUP, version, resource);
  }

  private list(resource: string, version = 'v1'): Obj[] {
    const d = this.def(resource, version);
    return d ? (this.api.store.list(d.bucket) as Obj[]) : [];
  }

  /** The conversion of the cluster's Gateway API objects, as of now (cached until one changes). */
  translation(): Translation | undefined {
    if (!this.def('gateways')) return undefined;
    if (this.cached) return this.cached;
    const core = (r: string) => this.api.store.list(this.api.kinds.require('', 'v1', r).bucket) as Obj[];
    const endpoints = core('endpoints');
    this.cached = translate({
      gatewayClasses: this.list('gatewayclasses'),
      gateways: this.list('gateways'),
      httpRoutes: this.list('httproutes'),
      referenceGrants: this.list('referencegrants', 'v1beta1'),
      services: core('services'),
      namespaces: core('namespaces'),
      serviceHasEndpoints: (ns, name, port) =>
        endpoints.some((e) => e.metadata?.namespace === ns && e.metadata?.name === name && (e.subsets ?? []).some((s: Obj) => (s.addresses ?? []).length > 0 && (s.ports ?? []).some((p: Obj) => p.port === port || p.name !== undefined))),
    });
    return this.cached;
  }

  /** For the config distribution: the Istio config istiod derives from the Gateway API, by bucket. */
  derived(bucket: string): Obj[] {
    if (!this.serving()) return [];
    if (bucket !== 'networking.istio.io/gateways' && bucket !== 'networking.istio.io/virtualservices') return [];
    let t: Translation | undefined;
    try {
      t = this.translation();
    } catch (e) {
      // Whatever a learner wrote must not take istiod's push (or the server) down with it.
      this.api.log.warn(`istiod gateway controller: converting the Gateway API failed: ${(e as Error).message}`);
      return [];
    }
    return (bucket === 'networking.istio.io/gateways' ? t?.gateways : t?.virtualServices) ?? [];
  }

  /** istiod started serving: catch up with everything. */
  istiodReady(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.running.then(() => this.reconcile()).catch((e: Error) => this.api.log.warn(`istiod gateway controller: ${e.message}`));
    });
  }

  async idle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      await this.running;
    }
  }

  stop(): void {
    this.unwatch();
  }

  private async reconcile(): Promise<void> {
    if (!this.serving() || !this.def('gatewayclasses')) return;
    await this.ensureClasses();
    const classes = this.list('gatewayclasses');
    for (const gw of this.list('gateways')) if (isIstioClass(classes, gw.spec?.gatewayClassName) && !gw.metadata.deletionTimestamp) await this.deploy(gw);
    const t = this.translation();
    if (!t) return;
    for (const gw of this.list('gateways')) {
      const st = t.gatewayStatus.get(`${gw.metadata.namespace}/${gw.metadata.name}`);
      if (st) await this.writeStatus('gateways', gw, { ...st, conditions: keepTimes(this.api.clock.now(), gw.status?.conditions, st.conditions, gw.metadata.generation), listeners: st.listeners.map((l) => ({ ...l, conditions: keepTimes(this.api.clock.now(), gw.status?.listeners?.find((x: Obj) => x.name === l.name)?.conditions, l.conditions, gw.metadata.generation) })) });
    }
    for (const r of this.list('httproutes')) {
      const parents = t.routeStatus.get(`${r.metadata.namespace}/${r.metadata.name}`);
      if (!parents) continue;
      const others = ((r.status?.parents ?? []) as Obj[]).filter((p) => p.controllerName !== ISTIO_CONTROLLER);
      const mine = parents.map((p) => ({ ...p, conditions: keepTimes(this.api.clock.now(), r.status?.parents?.find((x: Obj) => x.controllerName === ISTIO_CONTROLLER && JSON.stringify(x.parentRef) === JSON.stringify(p.parentRef))?.conditions, p.conditions, r.metadata.generation) }));
      await this.writeStatus('httproutes', r, { parents: [...others, ...mine] });
    }
  }

  private async ensureClasses(): Promise<void> {
    const def = this.def('gatewayclasses')!;
    for (const c of CLASSES) {
      let obj = this.api.store.peek(def.bucket, '', c.name) as Obj | undefined;
      if (!obj) {
        try {
          obj = (await this.api.rest.create(def, '', { apiVersion: `${GATEWAY_API_GROUP}/v1`, kind: 'GatewayClass', metadata: { name: c.name }, spec: { controllerName: c.controllerName, description: c.description } }, { user: ISTIOD_USER, fieldManager: 'pilot-discovery' })) as Obj;
        } catch {
          continue;
        }
      }
      if (obj.spec?.controllerName !== c.controllerName) continue;
      const conditions = keepTimes(this.api.clock.now(), obj.status?.conditions, [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Handled by Istio controller' }], obj.metadata.generation);
      await this.writeStatus('gatewayclasses', obj, { ...(obj.status ?? {}), conditions });
    }
  }

  private async writeStatus(resource: string, obj: Obj, status: Obj): Promise<void> {
    if (canonical(obj.status ?? {}) === canonical(status)) return;
    const def = this.def(resource)!;
    try {
      await this.api.rest.update(def, obj.metadata.namespace ?? '', obj.metadata.name, { ...obj, status }, { user: ISTIOD_USER, fieldManager: 'pilot-discovery' }, 'status');
    } catch {
      // A newer version arrived meanwhile: its change event brings us back.
    }
  }

  private values(): GatewayValues {
    const cm = this.api.store.peek(this.api.kinds.require('', 'v1', 'configmaps').bucket, 'istio-system', 'istio-sidecar-injector') as Obj | undefined;
    try {
      const v = JSON.parse(cm?.data?.values ?? '{}') as Obj;
      return { hub: v.global?.hub ?? 'docker.io/istio', tag: String(v.global?.tag ?? ''), ...(v.global?.proxy?.resources ? { resources: v.global.proxy.resources } : {}) };
    } catch {
      return { hub: 'docker.io/istio', tag: '' };
    }
  }

  private async deploy(gw: Obj): Promise<void> {
    const opts = { user: ISTIOD_USER, fieldManager: FIELD_MANAGER, force: true };
    if (gw.metadata.annotations?.['gateway.istio.io/controller-version'] !== '5') {
      await this.api.rest.patch(this.def('gateways')!, gw.metadata.namespace, gw.metadata.name, 'apply', { apiVersion: `${GATEWAY_API_GROUP}/v1`, kind: 'Gateway', metadata: { name: gw.metadata.name, annotations: { 'gateway.istio.io/controller-version': '5' } } }, opts).catch(() => undefined);
    }
    const values = this.values();
    if (!values.tag) return;
    for (const obj of renderGateway(gw, values)) {
      const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
      const plural = obj.kind === 'ServiceAccount' ? 'serviceaccounts' : obj.kind === 'Service' ? 'services' : 'deployments';
      const def = this.api.kinds.require(group, version, plural);
      const live = this.api.store.peek(def.bucket, gw.metadata.namespace, obj.metadata.name) as Obj | undefined;
      if (live && canonical(pick(live, obj)) === canonical(obj)) continue;
      try {
        // Leaving NodePort/LoadBalancer: the allocated nodePorts go with the type change.
        if (obj.kind === 'Service' && live && live.spec?.type !== obj.spec.type && obj.spec.type === 'ClusterIP') {
          await this.api.rest.patch(def, gw.metadata.namespace, obj.metadata.name, 'merge', { spec: { type: 'ClusterIP', ports: obj.spec.ports } }, { user: ISTIOD_USER, fieldManager: FIELD_MANAGER });
        }
        await this.api.rest.patch(def, gw.metadata.namespace, obj.metadata.name, 'apply', obj, opts);
      } catch (e) {
        this.api.log.warn(`istiod gateway controller: applying ${obj.kind} ${gw.metadata.namespace}/${obj.metadata.name}: ${(e as Error).message}`);
      }
    }
  }
}

/** Whether the live object already has what would be applied (the fields applied, nothing else compared). */
function pick(live: unknown, want: unknown): unknown {
  if (Array.isArray(want)) return Array.isArray(live) ? want.map((w, i) => pick(live[i], w)) : live;
  if (want && typeof want === 'object') {
    if (!live || typeof live !== 'object') return live;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(want)) out[k] = pick((live as Record<string, unknown>)[k], (want as Record<string, unknown>)[k]);
    return out;
  }
  return live;
}

/** Conditions as metav1 carries them: a condition's lastTransitionTime only moves when its status does. */
function keepTimes(now: Date, existing: Obj[] | undefined, next: Condition[], generation: number | undefined): Obj[] {
  const at = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return next.map((c) => {
    const old = existing?.find((e) => e.type === c.type);
    const same = old && old.status === c.status && old.reason === c.reason && old.message === c.message && old.observedGeneration === (generation ?? 1);
    return { type: c.type, status: c.status, observedGeneration: generation ?? 1, lastTransitionTime: same ? old.lastTransitionTime : at, reason: c.reason, message: c.message };
  });
}

/** JSON with object keys sorted, to compare what the store holds with what would be written. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
}
