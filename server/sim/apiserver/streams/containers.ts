/**
 * Picking the container a pod subresource (log, exec, attach) addresses, with the errors
 * kube-apiserver's pod strategy gives (pkg/registry/core/pod/strategy.go validateContainer).
 */
import { ApiError } from '../../errors.js';
import type { KubeObject } from '../../types.js';

interface NamedContainer {
  name: string;
}

function containersOf(pod: KubeObject, key: 'containers' | 'initContainers' | 'ephemeralContainers'): NamedContainer[] {
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  const list = spec[key];
  return Array.isArray(list) ? (list as NamedContainer[]) : [];
}

/** Every container name in the order kube-apiserver lists them in its error message. */
export function allContainerNames(pod: KubeObject): string[] {
  return [
    ...containersOf(pod, 'initContainers'),
    ...containersOf(pod, 'containers'),
    ...containersOf(pod, 'ephemeralContainers'),
  ].map((c) => c.name);
}

/**
 * The container named by the request, or the only one when none is named. Multi-container
 * pods need an explicit name: kubectl normally sends one (the default-container annotation or
 * the first container), so this error mostly reaches raw API clients.
 */
export function resolveContainer(pod: KubeObject, requested: string | undefined): string {
  const podName = pod.metadata.name ?? '';
  if (!requested) {
    const containers = containersOf(pod, 'containers');
    if (containers.length === 1) return containers[0]!.name;
    if (containers.length === 0) throw ApiError.badRequest(`a container name must be specified for pod ${podName}`);
    throw ApiError.badRequest(
      `a container name must be specified for pod ${podName}, choose one of: [${allContainerNames(pod).join(' ')}]`,
    );
  }
  if (!allContainerNames(pod).includes(requested)) {
    throw ApiError.badRequest(`container ${requested} is not valid for pod ${podName}`);
  }
  return requested;
}
