/**
 * On a shared cluster (namespace-per-learner mode) a learner may not list across namespaces: what
 * the server reads with the learner's credentials "everywhere" (the mesh picture's pods and
 * services) is read in their own namespace and the instructor's istio-system instead.
 */
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError, type KubeObjects } from '../checks/kube-objects.js';

export function scopedToNamespaces(objects: KubeObjects, own: string, shared: string[] = ['istio-system']): KubeObjects {
  const scoped = Object.create(objects) as KubeObjects;
  scoped.list = async <T extends KubernetesObject = KubernetesObject>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubernetesListObject<T>> => {
    if (namespace !== undefined || !(await objects.isNamespaced(apiVersion, kind))) return objects.list<T>(apiVersion, kind, namespace, labelSelector);
    const lists = await Promise.all(
      [own, ...shared].map((ns) =>
        objects.list<T>(apiVersion, kind, ns, labelSelector).catch((err: unknown) => {
          // The learner's own namespace must answer; a shared one may not exist (yet) or not be readable.
          if (ns !== own && err instanceof KubeApiError && (err.code === 403 || err.code === 404)) return undefined;
          throw err;
        }),
      ),
    );
    const first = lists[0]!;
    return { ...first, items: lists.flatMap((l) => l?.items ?? []) };
  };
  return scoped;
}
