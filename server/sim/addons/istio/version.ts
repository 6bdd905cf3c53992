/** The Istio release the add-on stands in for, and where its images come from. */
export const ISTIO_VERSION = '1.30.3';
/** Released 1.30 charts pull from docker.io/istio (the registry.istio.io switch applies to new builds). */
export const ISTIO_HUB = 'docker.io/istio';
export const ISTIO_NAMESPACE = 'istio-system';
