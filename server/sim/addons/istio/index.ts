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
import { ProxyRegistry } from './envoy/proxy.js';
import { sidecarInterceptor } from './envoy/sidecar.js';
import { GatewayApiController } from './gateway-api/controller.js';

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
      // The config distribution istiod serves and proxies subscribe to (in-process xDS).
      // istiod also serves the Istio config it converts from the Gateway API (gateway-api/).
      let gatewayApi: GatewayApiController | undefined;
      const xds = new ConfigDistribution({ list: (b) => [...(api.store.list(b) as Record<string, unknown>[]), ...(gatewayApi?.derived(b) ?? [])] as never }, () => api.clock.now(), 'istio-system', compileProxyConfig);
      gatewayApi = new GatewayApiController(api, () => !!xds.serving, () => xds.configChanged());
      // The running proxies; the pod network sends a sidecar'd pod's traffic through its own.
      const proxies = new ProxyRegistry();
      const watched = new Set<string>(CONFIG_BUCKETS);
      const unwatch = api.store.onAnyChange((e) => {
        if (watched.has(e.bucket as ConfigBucket)) xds.configChanged();
      });
      const webhooks = webhookController(api, () => !!xds.serving);
      const unregister = [webhooks.stop, gatewayApi.stop.bind(gatewayApi), api.controllers.register(gatewayApi), api.images.register(istioPilotImage(reader, xds, () => (void webhooks.istiodReady(), gatewayApi.istiodReady()))), api.images.register(istioProxyImage(xds, proxies)), api.interceptors.add(sidecarInterceptor(proxies)), unwatch];
      return () => {
        for (const u of unregister) u();
      };
    },
  };
}
