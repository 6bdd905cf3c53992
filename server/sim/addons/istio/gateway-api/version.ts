/** The Gateway API release whose standard-channel CRDs the playground serves (crds.ts). */
export const GATEWAY_API_VERSION = 'v1.3.0';
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
