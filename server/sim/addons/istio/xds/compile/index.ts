/**
 * istiod's config generation (pilot's `networking/core`): one proxy's ProxyConfig from the
 * snapshot of Istio config it may see and the cluster's Services and endpoints.
 * SKELETON (lead): outbound (sidecars) and gateway generation come with the compile work;
 * inbound (mTLS, authorization) is inbound.ts.
 */
import type { Compiler } from '../distribution.js';

export const compileProxyConfig: Compiler = (snapshot, proxy) => ({ version: snapshot.version, proxy, listeners: [], routes: [], clusters: [], endpoints: [] });
