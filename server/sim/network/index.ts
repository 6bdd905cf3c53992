/** The embedded cluster's pod network. The workloads add-on (addons/core/workloads.ts) wires it into a cluster. */
export { ClusterNetwork, type PodEntry, type ListeningContainer } from './network.js';
export { PodInterceptors } from './interceptors.js';
export { ServiceDirectory, CLUSTER_DOMAIN, resolveTargetPort, type ServiceView, type ServicePort, type Endpoint } from './services.js';
export { NodePortListeners } from './nodeports.js';
export type * from './types.js';
