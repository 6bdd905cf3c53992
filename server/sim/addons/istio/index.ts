/**
 * Istio as an add-on of the embedded cluster: what the cluster itself must know of Istio's images
 * (istiod's `istio/pilot`, the proxies' `istio/proxyv2`). Istio's objects (CRDs, istiod, gateways,
 * webhooks) are not here: `istioctl install` creates them through the Kubernetes API, as on a real
 * cluster (istioctl/, manifests/); the download the learner runs is release/.
 */
import type { AddOn } from '../api.js';
import { istioPilotImage, istioProxyImage } from './images/index.js';

export function istio(): AddOn {
  return {
    name: 'istio',
    start(api) {
      const unregister = [api.images.register(istioPilotImage), api.images.register(istioProxyImage)];
      return () => {
        for (const u of unregister) u();
      };
    },
  };
}
