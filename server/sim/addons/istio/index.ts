/**
 * Istio as an add-on of the embedded cluster: what the cluster itself must know of Istio's images
 * (istiod's `istio/pilot`, the proxies' `istio/proxyv2`). Istio's objects (CRDs, istiod, gateways,
 * webhooks) are not here: `istioctl install` creates them through the Kubernetes API, as on a real
 * cluster (istioctl/, manifests/); the download the learner runs is release/.
 */
import type { AddOn } from '../api.js';
import { istioPilotImage, istioProxyImage } from './images/index.js';
import type { MeshReader } from './inject/webhook.js';
import { webhookController } from './webhook-controller.js';
import { CONFIG_BUCKETS, ConfigDistribution, type ConfigBucket } from './xds/distribution.js';
import { compileProxyConfig } from './xds/compile/index.js';
import { buildMeshView } from './xds/compile/mesh.js';
import { ProxyRegistry } from './envoy/proxy.js';
import { sidecarInterceptor } from './envoy/sidecar.js';
import { setClusterManager } from './envoy/router-upstream.js';
import { envoyClusterManager } from './envoy/upstream.js';
import { GatewayApiController } from './gateway-api/controller.js';

type PodLike = { metadata?: { labels?: Record<string, string> }; spec?: { serviceAccountName?: string }; status?: { podIP?: string; phase?: string } };

/** A modified pod the registry cares about: a new IP, phase, labels or ServiceAccount (not every status write). */
function podMoved(now: PodLike, prev: PodLike | undefined): boolean {
  if (!prev) return true;
  return now.status?.podIP !== prev.status?.podIP || now.status?.phase !== prev.status?.phase || JSON.stringify(now.metadata?.labels ?? {}) !== JSON.stringify(prev.metadata?.labels ?? {}) || now.spec?.serviceAccountName !== prev.spec?.serviceAccountName;
}

/** Each cluster's running proxies, by its store: what tests and tools read a proxy's pushed config from. */
const runningProxies = new WeakMap<object, ProxyRegistry>();
export const proxiesOf = (store: object): ProxyRegistry | undefined => runningProxies.get(store);

export function istio(): AddOn {
  return {
    name: 'istio',
    start(api) {
      // istiod reads its ConfigMaps and the nodes as its informers would: straight from the store.
      const configMaps = api.kinds.require('', 'v1', 'configmaps').bucket;
      const nodes = api.kinds.require('', 'v1', 'nodes').bucket;
      const reader: MeshReader = {
        configMap: (ns, name) => api.store.peek(configMaps, ns, name) as { data?: Record<string, string> } | undefined,
        kubeletVersions: () => api.store.list(nodes).map((n) => String((n as { status?: { nodeInfo?: { kubeletVersion?: string } } }).status?.nodeInfo?.kubeletVersion ?? '')),
      };
      // istiod's registry: Services, their endpoints and pods, ServiceEntries, and the mesh config (read once per push).
      const core = (r: string) => api.kinds.require('', 'v1', r).bucket;
      const registry = { services: core('services'), endpoints: core('endpoints'), pods: core('pods'), slices: api.kinds.require('discovery.k8s.io', 'v1', 'endpointslices').bucket };
      const mesh = () =>
        buildMeshView({
          services: api.store.list(registry.services, undefined, true) as never,
          endpointSlices: api.store.list(registry.slices, undefined, true) as never,
          endpoints: api.store.list(registry.endpoints, undefined, true) as never,
          pods: api.store.list(registry.pods, undefined, true) as never,
          serviceEntries: api.store.list('networking.istio.io/serviceentries', undefined, true) as never,
          meshYaml: (api.store.peek(configMaps, 'istio-system', 'istio') as { data?: Record<string, string> } | undefined)?.data?.mesh,
        });
      // istiod also serves the Istio config it converts from the Gateway API (gateway-api/).
      let gatewayApi: GatewayApiController | undefined;
      const xds = new ConfigDistribution({ list: (b) => [...(api.store.list(b) as Record<string, unknown>[]), ...(gatewayApi?.derived(b) ?? [])] as never, mesh }, () => api.clock.now(), 'istio-system', compileProxyConfig);
      gatewayApi = new GatewayApiController(api, () => !!xds.serving, () => xds.configChanged());
      // The running proxies; the pod network sends a sidecar'd pod's traffic through its own.
      const proxies = new ProxyRegistry();
      runningProxies.set(api.store, proxies);
      setClusterManager(envoyClusterManager);
      const watched = new Set<string>([...CONFIG_BUCKETS, registry.services, registry.endpoints, registry.slices]);
      const unwatch = api.store.onAnyChange((e) => {
        if (watched.has(e.bucket as ConfigBucket) || (e.bucket === registry.pods && (e.type !== 'MODIFIED' || podMoved(e.object, e.prev))) || (e.bucket === configMaps && e.namespace === 'istio-system' && e.object?.metadata?.name === 'istio')) xds.configChanged();
      });
      const webhooks = webhookController(api, () => !!xds.serving);
      const unregister = [webhooks.stop, gatewayApi.stop.bind(gatewayApi), api.controllers.register(gatewayApi), api.images.register(istioPilotImage(reader, xds, () => (void webhooks.istiodReady(), gatewayApi.istiodReady()))), api.images.register(istioProxyImage(xds, proxies)), api.interceptors.add(sidecarInterceptor(proxies)), unwatch, () => void runningProxies.delete(api.store)];
      return () => {
        for (const u of unregister) u();
      };
    },
  };
}
